"""A tiny catalogue made with the ORM: two categories, two products in stock, one out of stock."""

from decimal import Decimal

import pytest

from shop_demo.cart import SESSION_KEY
from shop_demo.models import Brand, Category, Product

GOOD_CARD = "4242 4242 4242 4242"
DECLINED_CARD = "4010 0000 0000 0000"  # passes the checksum, ends in 0000
PASSWORD = "a-Long-enough-passw0rd"


@pytest.fixture
def kitchen(db) -> Category:
    return Category.objects.create(name="Kitchen", slug="kitchen")


@pytest.fixture
def garden(db) -> Category:
    return Category.objects.create(name="Garden", slug="garden")


@pytest.fixture
def mug(kitchen) -> Product:
    brand = Brand.objects.create(name="Potter", slug="potter")
    return Product.objects.create(
        stock_code="MUG1", title="Red spotty mug", price=Decimal("3.50"), category=kitchen, brand=brand
    )


@pytest.fixture
def teapot(kitchen) -> Product:
    return Product.objects.create(stock_code="TEA1", title="Blue teapot", price=Decimal("12.25"), category=kitchen)


@pytest.fixture
def gnome(garden) -> Product:
    return Product.objects.create(
        stock_code="GNM1", title="Garden gnome", price=Decimal("7.99"), category=garden, in_stock=False
    )


@pytest.fixture
def customer(django_user_model):
    return django_user_model.objects.create_user("alice", "alice@example.com", PASSWORD)


@pytest.fixture
def customer_client(client, customer):
    client.force_login(customer)
    return client


def put_in_cart(client, quantities: dict[str, int]) -> None:
    """Fill the test client's session cart directly, as an earlier visit would have."""
    session = client.session
    session[SESSION_KEY] = quantities
    session.save()


def cart_of(client) -> dict[str, int]:
    return client.session.get(SESSION_KEY, {})


@pytest.fixture(autouse=True)
def fast_password_hashing(settings) -> None:
    """The default hasher is slow on purpose; these tests only need a password that works."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
