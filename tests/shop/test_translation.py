"""The demo shop's Simplified Chinese catalogue: complete, translated, placeholders kept, compiled, served."""

from __future__ import annotations

from pathlib import Path

import polib
import pytest
from django.utils import translation

import shop_demo
from tests.core.test_translation import check_compiled, check_entry
from tests.core.test_translation import entries as core_entries

LOCALE = Path(shop_demo.__file__).parent / "locale" / "zh_Hans" / "LC_MESSAGES"


def entries() -> list[polib.POEntry]:
    return core_entries(LOCALE)


def test_the_catalogue_covers_the_shop_and_its_templates():
    sources = {path for entry in entries() for path, _line in entry.occurrences}
    assert len(entries()) > 100
    assert "templates/503.html" in sources
    assert "templates/base.html" in sources
    assert any(path.startswith("shop_demo/") for path in sources)
    assert not any(path.startswith("promotions/") for path in sources)


def test_the_header_is_for_chinese():
    metadata = polib.pofile(str(LOCALE / "django.po")).metadata
    assert metadata["Language"] == "zh_Hans"
    assert metadata["Plural-Forms"] == "nplurals=1; plural=0;"


@pytest.mark.parametrize("entry", entries(), ids=lambda entry: entry.msgid[:60])
def test_every_entry_is_a_real_translation_that_keeps_its_placeholders(entry):
    check_entry(entry)


def test_the_compiled_catalogue_matches_the_source():
    check_compiled(LOCALE)


def test_django_serves_it_for_zh_hans():
    with translation.override("zh-hans"):
        assert translation.gettext("Add to cart") == "加入购物车"
        assert translation.gettext("Back in a moment") == "马上回来"


@pytest.mark.django_db
def test_the_home_page_is_shown_in_chinese(client, mug):
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 200
    page = response.content.decode()
    assert "演示商店" in page  # "Demo shop"
    assert "全部商品" in page  # "All products"
    english = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Demo shop" in english and "演示商店" not in english
