from decimal import Decimal

import pytest
from django.test import override_settings

from promotions.tracking import buffer
from shop_demo import settings as shop_settings
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


@pytest.fixture
def redis_buffer(redis_url):
    """The real Redis event buffer, in small batches (7) so that tests cross batch boundaries."""
    with override_settings(PROMOTIONS={**shop_settings.PROMOTIONS, "REDIS_URL": redis_url, "FLUSH_BATCH_SIZE": 7}):
        buffer._redis_down_until = 0.0
        yield buffer.redis_client()
