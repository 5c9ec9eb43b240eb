"""The configuration reference (docs/configuration.md) is generated from promotions.conf.DEFAULTS
and must agree with it: every key documented with a meaning, no key that does not exist."""

import importlib.util
import re
from pathlib import Path

from django.conf import settings

from promotions.conf import DEFAULTS

DOCS = Path(settings.BASE_DIR) / "docs"


def _generator():
    spec = importlib.util.spec_from_file_location("gen_settings", DOCS / "gen_settings.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_setting_has_a_meaning_and_no_other_key_has_one():
    meanings = _generator().MEANINGS
    assert sorted(set(DEFAULTS) - set(meanings)) == [], "settings without a meaning in docs/gen_settings.py"
    assert sorted(set(meanings) - set(DEFAULTS)) == [], "meanings of settings conf.DEFAULTS does not have"
    assert all(text.strip() for text in meanings.values())


def test_the_page_is_what_the_generator_writes_from_conf_defaults():
    generator = _generator()
    page = (DOCS / "configuration.md").read_text(encoding="utf-8")
    assert page == generator.render(page, DEFAULTS), "docs/configuration.md is stale: run python docs/gen_settings.py"


def test_the_table_lists_each_key_once_with_its_default():
    generator = _generator()
    page = (DOCS / "configuration.md").read_text(encoding="utf-8")
    block = page.split(generator.BEGIN)[1].split(generator.END)[0]
    rows = [line for line in block.splitlines() if line.startswith("| `")]
    assert [row.split("`")[1] for row in rows] == list(DEFAULTS)
    assert '| `VISITOR_COOKIE_AGE` | `31536000` |' in block  # rendered from the value, not typed


def test_a_key_added_to_defaults_makes_the_page_stale():
    generator = _generator()
    page = (DOCS / "configuration.md").read_text(encoding="utf-8")
    assert generator.render(page, {**DEFAULTS, "NEW_SETTING": 1}) != page
    assert generator.render(page, {key: value for key, value in DEFAULTS.items() if key != "SLOTS"}) != page


def test_every_system_check_id_is_documented_and_no_other():
    """The ids the checks can report (in promotions/) are the ids the docs list."""
    pattern = re.compile(r"promotions\.[EW]\d{3}\b")
    code = (Path(settings.BASE_DIR) / "promotions").rglob("*.py")
    in_code = {found for path in code for found in pattern.findall(path.read_text("utf-8"))}
    pages = [(DOCS / page).read_text("utf-8") for page in ("configuration.md", "security.md")]
    documented = {found for text in pages for found in pattern.findall(text)}
    assert sorted(in_code - documented) == [], "check ids missing from docs/configuration.md or docs/security.md"
    assert sorted(documented - in_code) == [], "documented check ids no check reports"


def test_every_environment_variable_of_the_demo_is_documented():
    source = (Path(settings.BASE_DIR) / "shop_demo" / "settings.py").read_text("utf-8")
    read = set(re.findall(r'_env(?:_bool)?\("([A-Z_]+)"', source))
    page = (DOCS / "configuration.md").read_text("utf-8")
    section = page.split("## The demo shop's environment")[1].split("\n## ")[0]
    assert read and sorted(name for name in read if f"`{name}`" not in section) == []
