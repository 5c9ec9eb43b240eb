from decimal import Decimal

import pytest

from shop_demo.models import Category, Product

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"


@pytest.fixture
def product(db):
    category = Category.objects.create(name="Lights", slug="lights")
    return Product.objects.create(
        stock_code="85123A", title="White hanging heart T-light holder", category=category, price=Decimal("2.55")
    )


@pytest.fixture
def browser(client):
    client.defaults["HTTP_USER_AGENT"] = BROWSER
    client.cookies["shop_consent"] = "yes"
    return client
