"""Fixtures of the checkout contract's tests: a small catalogue and promotions made with the ORM."""

from decimal import Decimal

import pytest

from promotions.offers.service import forget_live_promotions
from shop_demo.models import Brand, Category, Product


@pytest.fixture(autouse=True)
def fresh_live_promotions():
    forget_live_promotions()
    yield
    forget_live_promotions()


@pytest.fixture
def products(db) -> dict[str, Product]:
    candles = Category.objects.create(name="Candles", slug="candles")
    kitchen = Category.objects.create(name="Kitchen", slug="kitchen")
    brand = Brand.objects.create(name="Glow", slug="glow")
    return {
        "CAN1": Product.objects.create(
            stock_code="CAN1", title="Candle", price=Decimal("10.00"), category=candles, brand=brand
        ),
        "MUG1": Product.objects.create(stock_code="MUG1", title="Mug", price=Decimal("5.00"), category=kitchen),
    }
