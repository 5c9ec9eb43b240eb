"""The Simplified Chinese catalogue of the app: complete, really translated, placeholders kept, compiled."""

from __future__ import annotations

import gettext
import os
import re
import shutil
from collections import Counter
from pathlib import Path

import polib
import pytest
from django.core.management import call_command
from django.utils import translation

import promotions

LOCALE = Path(promotions.__file__).parent / "locale" / "zh_Hans" / "LC_MESSAGES"
CHINESE = re.compile(r"[\u4e00-\u9fff]")
# Python %-format directives: %(name)s, %d, %.4f, %(change).4f, and the literal %%.
PLACEHOLDER = re.compile(r"%(?:\([^)]*\))?[-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa%]")


def catalogue(locale: Path = LOCALE) -> polib.POFile:
    return polib.pofile(str(locale / "django.po"))


def entries(locale: Path = LOCALE) -> list[polib.POEntry]:
    return [entry for entry in catalogue(locale) if not entry.obsolete]


def translations(entry: polib.POEntry) -> list[str]:
    return list(entry.msgstr_plural.values()) if entry.msgid_plural else [entry.msgstr]


def placeholders(text: str) -> Counter:
    return Counter(PLACEHOLDER.findall(text))


def test_the_catalogue_is_not_empty():
    assert len(entries()) > 300


def check_entry(entry: polib.POEntry) -> None:
    """A real translation: not fuzzy, not empty, not the English, in Chinese, placeholders kept."""
    assert "fuzzy" not in entry.flags
    for text in translations(entry):
        assert text.strip(), "empty"
        assert text != entry.msgid and text != entry.msgid_plural, "same as the English"
        assert CHINESE.search(text), "no Chinese characters"
        if "python-format" in entry.flags:
            # Chinese has one plural form, used for every count: it keeps the plural's placeholders.
            assert placeholders(text) == placeholders(entry.msgid_plural or entry.msgid)


def check_compiled(locale: Path) -> None:
    """The committed .mo says what the .po says."""
    with open(locale / "django.mo", "rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    for entry in entries(locale):
        if entry.msgid_plural and entry.msgctxt:
            assert compiled.npgettext(entry.msgctxt, entry.msgid, entry.msgid_plural, 5) == entry.msgstr_plural[0]
        elif entry.msgid_plural:
            assert compiled.ngettext(entry.msgid, entry.msgid_plural, 5) == entry.msgstr_plural[0]
        elif entry.msgctxt:  # a message with a context (pgettext) is found only with it
            assert compiled.pgettext(entry.msgctxt, entry.msgid) == entry.msgstr, (entry.msgctxt, entry.msgid)
        else:
            assert compiled.gettext(entry.msgid) == entry.msgstr, entry.msgid


@pytest.mark.parametrize("entry", entries(), ids=lambda entry: entry.msgid[:60])
def test_every_entry_is_a_real_translation_that_keeps_its_placeholders(entry):
    check_entry(entry)


def test_the_compiled_catalogue_matches_the_source():
    check_compiled(LOCALE)


def test_django_serves_it_for_zh_hans():
    with translation.override("zh-hans"):
        assert translation.gettext("Personalized promotions") == "个性化促销"
        assert translation.gettext("No model is active: promotions are not personalized.").startswith("没有启用的模型")


def test_every_message_of_the_app_has_an_entry(tmp_path, monkeypatch):
    """Extract the messages of promotions/ afresh (makemessages, in a copy) and compare."""
    if shutil.which("xgettext") is None:
        if os.environ.get("PROMOTIONS_REQUIRE_SERVICES") == "1":
            pytest.fail("xgettext (gettext) is required: .ci/run installs it")
        pytest.skip("xgettext (gettext) is not installed")
    copy = tmp_path / "promotions"
    shutil.copytree(Path(promotions.__file__).parent, copy, ignore=shutil.ignore_patterns("__pycache__", "locale"))
    (copy / "locale").mkdir()
    monkeypatch.chdir(copy)
    call_command("makemessages", locale=["zh_Hans"], verbosity=0)
    fresh = polib.pofile(str(copy / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"))
    shipped = {(entry.msgctxt, entry.msgid) for entry in entries()}
    missing = sorted(entry.msgid for entry in fresh if (entry.msgctxt, entry.msgid) not in shipped)
    assert missing == [], f"run makemessages -l zh_Hans in promotions/ and translate: {missing}"
