"""A visitor in a real browser: consents, sees promotions follow what they view, clicks an offer,
gets its discount in the cart and checks out; the beacon reports the click."""

from __future__ import annotations

import re
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.utils import timezone

from promotions.offers.models import Promotion, Redemption
from promotions.registry import forget_all
from promotions.tracking.models import Event
from promotions.training import versions
from shop_demo.catalog.loading import load_catalogue
from shop_demo.catalog.promotions import create_example_promotions
from shop_demo.models import Order, Product

pytestmark = pytest.mark.django_db(transaction=True)
CANDLE_OFFER = "20% off candles and lights"
BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"


def wait_for(condition, seconds: float = 10.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    return condition()


@pytest.fixture
def shop(tmp_path):
    cache.clear()
    forget_all()  # earlier tests' promotions, cards and model must not leak in
    versions.forget_active()
    versions._loaded = None
    load_catalogue(tmp_path / "missing")  # the built-in sample catalogue
    create_example_promotions()
    # Some sales, so that best sellers can fill the offers (no model is trained here).
    now = timezone.now()
    for n, product in enumerate(Product.objects.order_by("stock_code")):
        Event.objects.create(
            event_type="purchase",
            visitor_id=f"earlier-{n}",
            item_id=product.stock_code,
            quantity=1,
            unit_price=product.price,
            occurred_at=now - timedelta(days=2),
            idempotency_key=f"sale-{n}",
        )
    yield
    forget_all()


def test_a_visitor_sees_promotions_follow_their_views_and_checks_out_with_the_discount(
    page, live_server, shop, browser_artifacts, settings
):
    settings.PROMOTIONS = {**settings.PROMOTIONS, "HOLDOUT_SHARE": 0}
    candle = Product.objects.filter(category__name="Candles & Lights").order_by("stock_code").first()
    # Headless Chromium says so in its user agent, and bots are never tracked: look like a person.
    page.set_extra_http_headers({"User-Agent": BROWSER})
    page.goto(live_server.url + "/")
    page.get_by_role("button", name="Accept").click()
    assert not page.locator(".promotion-reason").count()  # nothing viewed yet: no reasons to give

    page.goto(f"{live_server.url}/product/{candle.stock_code}/")
    offer = page.locator("article.promotion", has_text=CANDLE_OFFER)

    def home_shows_the_offer() -> bool:
        # The view is written when the server closes the product page's response, which may come
        # just after the browser asks for the next page: the home page follows within moments.
        page.goto(live_server.url + "/")
        return offer.count() == 1

    assert wait_for(home_shows_the_offer)
    assert f"Offered because you viewed {candle.title}" in offer.locator(".promotion-reason").inner_text()

    # The offer lists candle products; clicking one is reported by the beacon.
    link = offer.locator(".promotion-products a").first
    clicked = link.get_attribute("data-promotions-product")
    link.click()
    page.wait_for_url(re.compile(rf"/product/{re.escape(clicked)}/"))
    promotion = Promotion.objects.get(message=CANDLE_OFFER)
    assert wait_for(lambda: Event.objects.filter(event_type="recommendation_click", item_id=clicked).exists())

    page.fill("#id_quantity", "2")
    page.get_by_role("button", name="Add to cart", exact=True).click()  # the cards name theirs "…: title"
    page.wait_for_url(re.compile(r"/cart/"))
    discount_row = page.locator("tr.discount", has_text=CANDLE_OFFER)
    assert discount_row.count() == 1
    page.screenshot(path=str(browser_artifacts / "visitor-cart.png"), full_page=True)

    page.goto(live_server.url + "/checkout/")
    page.fill("input[name=email]", "visitor@example.com")
    page.fill("textarea[name=shipping_address]", "1 High Street")
    page.fill("input[name=card_number]", "4242424242424242")
    page.locator("form.panel button[type=submit]").click()
    page.wait_for_url(re.compile(r"/orders/\d+/"))
    order = Order.objects.get()
    product = Product.objects.get(stock_code=clicked)
    assert order.discount == (product.price * 2 * Decimal("0.20")).quantize(Decimal("0.01"))
    assert Redemption.objects.get().promotion == promotion
    assert "Thank you!" in page.content()
    page.screenshot(path=str(browser_artifacts / "visitor-order.png"), full_page=True)
