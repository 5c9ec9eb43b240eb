"""A small Oscar catalogue: candles filed under "Candles > Scented", a mug, stock at one partner,
a shipping country, and the candle promotion of the guide ("20% off all candles", budget 100)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.cache import cache
from django.test import Client
from oscar.core.loading import get_model

from promotions.cards import forget_cards
from promotions.offers.models import Promotion
from promotions.offers.service import forget_live_promotions

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"
EMAIL = "shopper@example.com"
ADDRESS = {
    "first_name": "Ada",
    "last_name": "Lovelace",
    "line1": "1 Candle Street",
    "line4": "London",
    "postcode": "N1 9GU",
    "country": "GB",
}


def make_product(product_class, title: str, price: str, category=None, stock: int = 10):
    Product = get_model("catalogue", "Product")
    Partner = get_model("partner", "Partner")
    partner, _ = Partner.objects.get_or_create(name="Warehouse")
    product = Product.objects.create(title=title, product_class=product_class, structure="standalone")
    if category is not None:
        get_model("catalogue", "ProductCategory").objects.create(product=product, category=category)
    get_model("partner", "StockRecord").objects.create(
        product=product, partner=partner, partner_sku=f"SKU-{product.pk}", price=Decimal(price), num_in_stock=stock
    )
    return product


@pytest.fixture
def shop(db):
    cache.clear()
    forget_live_promotions()
    forget_cards()
    get_model("address", "Country").objects.create(
        iso_3166_1_a2="GB",
        iso_3166_1_a3="GBR",
        iso_3166_1_numeric="826",
        name="United Kingdom",
        is_shipping_country=True,
    )
    Category = get_model("catalogue", "Category")
    candles = Category.add_root(name="Candles", slug="candles")
    scented = candles.add_child(name="Scented", slug="scented")
    kitchen = Category.add_root(name="Kitchen", slug="kitchen")
    product_class = get_model("catalogue", "ProductClass").objects.create(name="Goods", track_stock=True)
    products = {
        "candle": make_product(product_class, "Lavender candle", "12.00", scented),
        "mug": make_product(product_class, "Red mug", "8.00", kitchen),
    }
    yield products
    forget_live_promotions()
    forget_cards()


@pytest.fixture
def candle_promotion(shop) -> Promotion:
    promotion = Promotion.objects.create(
        name="Candles 20%",
        message="20% off all candles",
        kind=Promotion.Kind.PERCENTAGE,
        value=Decimal("20"),
        target_kind=Promotion.TargetKind.CATEGORIES,
        target_values=["Candles"],
        status=Promotion.Status.ACTIVE,
        max_discount_total=Decimal("100.00"),
    )
    forget_live_promotions()
    return promotion


@pytest.fixture
def visitor() -> Client:
    client = Client(HTTP_USER_AGENT=BROWSER)
    return client


def checkout_to_preview(client: Client, email: str = EMAIL) -> None:
    """Oscar's guest checkout up to the preview page (email, address, the only shipping method)."""
    from django.urls import reverse

    response = client.post(reverse("checkout:index"), {"username": email, "options": "anonymous"})
    assert response.status_code == 302, response.content[:2000]
    response = client.post(reverse("checkout:shipping-address"), ADDRESS)
    assert response.status_code == 302, response.content[:3000]
    client.get(reverse("checkout:shipping-method"))
    client.get(reverse("checkout:payment-method"))
    preview = client.get(reverse("checkout:preview"))
    assert preview.status_code == 200, preview.status_code


def place_order(client: Client):
    from django.urls import reverse

    return client.post(reverse("checkout:preview"), {"action": "place_order"})
