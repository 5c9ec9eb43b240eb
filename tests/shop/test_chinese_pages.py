"""The shop in Chinese: reasons, badges, statuses, category names, error pages and the language
switcher; prices in the shop's currency format in both languages."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import translation

from promotions.experiments.models import Experiment
from promotions.money import format_money
from promotions.offers.models import Promotion
from promotions.offers.service import forget_live_promotions
from promotions.recommenders import Reason
from promotions.registry import forget_all
from promotions.serving.reasons import reason_heading, reason_text
from shop_demo.catalog.categories import NAMES_ZH_HANS, RULES
from shop_demo.catalog.loading import load_catalogue
from shop_demo.catalog.promotions import create_example_promotions
from shop_demo.consent import ACCEPTED, COOKIE_NAME
from shop_demo.models import Category, Product

pytestmark = pytest.mark.django_db
BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"
ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}


@pytest.fixture
def demo(tmp_path: Path):
    cache.clear()
    forget_all()
    forget_live_promotions()
    load_catalogue(tmp_path / "missing")
    create_example_promotions()
    yield
    forget_all()
    forget_live_promotions()


def test_every_category_of_the_rules_has_a_chinese_name():
    assert {name for name, _keywords in RULES} | {"Other"} == set(NAMES_ZH_HANS)


def test_reasons_are_worded_in_the_language_of_the_page(demo):
    candle = Product.objects.filter(category__name="Candles & Lights").first()
    with translation.override("zh-hans"):
        assert reason_text(Reason("trending", category="Candles & Lights")) == "蜡烛与灯饰 中的流行商品"
        assert reason_text(Reason("viewed", candle.stock_code)) == f"因为您浏览过 {candle.title}"
        assert reason_heading(Reason("also_bought", candle.stock_code)) == f"常与 {candle.title} 一起选购"
        assert reason_text(Reason("buy_again", days=30)) == "您大约每 30 天买一次"
    with translation.override("en"):
        assert reason_text(Reason("trending", category="Candles & Lights")) == "Trending in Candles & Lights"
        assert reason_text(Reason("offer_viewed", candle.stock_code)) == f"Offered because you viewed {candle.title}"


def test_a_promotion_that_ended_is_not_an_end_time():
    with translation.override("zh-hans"):
        assert str(Promotion.Status.ENDED.label) == "已结束"
        assert str(Experiment._meta.get_field("ended_at").verbose_name) == "结束时间"


def test_money_reads_the_same_in_both_languages():
    # Grouped as the language groups: Django's Simplified Chinese format has no thousands separator.
    for language, million in (("en", "£1,234,567.50"), ("zh-hans", "£1234567.50")):
        with translation.override(language):
            assert format_money("2.95") == "£2.95"
            assert format_money("1234567.5") == million
            assert format_money(5, whole=True) == "£5"
            assert format_money("-3", "EUR") == "-€3.00"
            assert format_money("12", "XTS") == "12.00\u00a0XTS"


@override_settings(PROMOTIONS={**settings.PROMOTIONS, "HOLDOUT_SHARE": 0})
def test_the_home_page_in_chinese_shows_chinese_offers_categories_and_reasons(demo):
    client = Client(HTTP_USER_AGENT=BROWSER, **ZH)
    client.cookies[COOKIE_NAME] = ACCEPTED
    candle = Product.objects.filter(category__name="Candles & Lights").first()
    client.get(reverse("shop:product", args=[candle.stock_code]))
    page = client.get(reverse("shop:home")).text
    assert "为您推荐的优惠" in page  # "Offers for you"
    assert "蜡烛和灯饰八折" in page and "减 20%" in page  # the candle offer's message and badge
    assert f"因为您浏览过 {candle.title}，为您推荐此优惠" in page  # why the offer is shown
    assert "蜡烛与灯饰" in page and "Candles &amp; Lights" not in page  # the category's Chinese name
    assert "£" in page and " GBP" not in page
    for english in ("Trending in", "Popular in", "Customers who chose", "Offered because", "Picked for you"):
        assert english not in page


def test_a_category_page_and_its_breadcrumbs_in_chinese(demo):
    category = Category.objects.get(name="Candles & Lights")
    page = Client(**ZH).get(category.get_absolute_url()).text
    assert "<h1>蜡烛与灯饰</h1>" in page
    assert Client().get(category.get_absolute_url()).text.count("Candles &amp; Lights") >= 2


def test_the_language_switcher_sets_the_language_of_the_next_pages(demo):
    client = Client()
    home = client.get(reverse("shop:home")).text
    assert 'action="/i18n/setlang/"' in home and 'value="zh-hans"' in home and "简体中文" in home
    response = client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    assert response.status_code == 302 and response["Location"] == "/"
    assert "演示商店" in client.get("/").text
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert "Demo shop" in client.get("/").text


def test_the_error_pages_are_in_chinese(demo):
    response = Client(**ZH).get("/no-such-page/")
    assert response.status_code == 404 and "页面未找到" in response.text and "返回商店" in response.text
    assert "Page not found" in Client().get("/no-such-page/").text
    with translation.override("zh-hans"):
        from django.template.loader import render_to_string

        assert "出了点问题" in render_to_string("500.html")
