"""The Oscar path once in a real headless Chromium (Debian's, through Playwright), with screenshots:
a product page shows the promotion and its price, the basket charges it, Oscar's checkout places
the order and the redemption is recorded."""

from __future__ import annotations

from decimal import Decimal

import pytest
from oscar.core.loading import get_model

from promotions.offers.models import Redemption
from tests.browser.conftest import browser_artifacts, page  # noqa: F401 - the browser fixtures

from .conftest import ADDRESS, BROWSER, EMAIL

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_shopper_buys_a_candle_at_the_price_shown(page, live_server, shop, candle_promotion, browser_artifacts):  # noqa: F811
    page.set_extra_http_headers({"User-Agent": BROWSER})
    candle = shop["candle"]
    page.goto(live_server.url + candle.get_absolute_url())
    offer = page.locator(".promotion-for")
    assert "20% off all candles" in offer.inner_text()
    assert offer.locator(".promotion-price").inner_text() == "£9.60"
    page.screenshot(path=str(browser_artifacts / "oscar-1-product.png"), full_page=True)

    page.locator("#add_to_basket_form button[type=submit]").click()
    page.goto(live_server.url + "/basket/")
    assert "20% off all candles" in page.content()
    page.screenshot(path=str(browser_artifacts / "oscar-2-basket.png"), full_page=True)

    page.goto(live_server.url + "/checkout/")
    page.fill("#id_username", EMAIL)
    page.check("input[name=options][value=anonymous]")
    page.locator("form button[type=submit]").first.click()
    for field in ("first_name", "last_name", "line1", "line4", "postcode"):
        page.fill(f"#id_{field}", ADDRESS[field])
    if page.locator("select#id_country").count():  # hidden when the shop ships to one country
        page.select_option("#id_country", ADDRESS["country"])
    page.locator("form#new_shipping_address button[type=submit]").click()
    page.goto(live_server.url + "/checkout/preview/")
    page.screenshot(path=str(browser_artifacts / "oscar-3-preview.png"), full_page=True)
    page.locator("#place-order").click()
    page.wait_for_url("**/checkout/thank-you/")
    page.screenshot(path=str(browser_artifacts / "oscar-4-thank-you.png"), full_page=True)

    order = get_model("order", "Order").objects.get()
    assert order.total_incl_tax == Decimal("9.60")
    assert Redemption.objects.get().order_ref == order.number
