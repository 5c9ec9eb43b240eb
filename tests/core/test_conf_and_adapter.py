"""The settings object and the product adapter."""

import subprocess
import sys
from decimal import Decimal

import pytest
from django.test import override_settings

from promotions.conf import app_settings
from promotions.products import ProductAdapter, ProductInfo, get_adapter, get_product_model
from shop_demo import settings as shop_settings
from shop_demo.models import Brand, Category, Product


def test_defaults_apply_and_overrides_are_seen_at_once():
    assert app_settings.VISITOR_COOKIE_NAME == "promotions_vid"
    with override_settings(PROMOTIONS={**shop_settings.PROMOTIONS, "VISITOR_COOKIE_NAME": "vid"}):
        assert app_settings.VISITOR_COOKIE_NAME == "vid"
    assert app_settings.VISITOR_COOKIE_NAME == "promotions_vid"


def test_product_fields_merge_over_defaults():
    with override_settings(PROMOTIONS={"PRODUCT_FIELDS": {"id": "stock_code"}}):
        assert app_settings.PRODUCT_FIELDS["id"] == "stock_code"
        assert app_settings.PRODUCT_FIELDS["title"] == "title"


def test_unknown_setting_is_an_attribute_error():
    with pytest.raises(AttributeError):
        app_settings.NO_SUCH_SETTING  # noqa: B018


@pytest.mark.django_db
def test_adapter_reads_the_shop_product():
    candles = Category.objects.create(name="Candles", slug="candles")
    brand = Brand.objects.create(name="Lumo", slug="lumo")
    product = Product.objects.create(
        stock_code="85123A",
        title="White lantern",
        description="A lantern",
        category=candles,
        brand=brand,
        price=Decimal("2.55"),
        in_stock=False,
    )
    assert get_product_model() is Product
    info = get_adapter().info(product)
    assert info == ProductInfo(
        id="85123A",
        title="White lantern",
        category="Candles",
        brand="Lumo",
        price=Decimal("2.55"),
        cost=None,
        available=False,
        text="A lantern",
    )
    assert list(get_adapter().get_queryset()) == []
    assert get_adapter().get_by_ids(["85123A", "missing"]) == {"85123A": product}
    assert get_adapter().pks_by_ids(["85123A", "missing"]) == {"85123A": product.pk}


@pytest.mark.django_db
def test_adapter_tolerates_missing_relations_and_untracked_stock():
    product = Product.objects.create(stock_code="1", title="Mug", price=Decimal("1"), in_stock=False)
    adapter = ProductAdapter({**app_settings.PRODUCT_FIELDS, "available": None})
    info = adapter.info(product)
    assert (info.category, info.brand, info.available, info.text) == ("", "", True, "Mug")
    assert list(adapter.get_queryset()) == [product]


def test_check_and_web_process_do_not_import_tensorflow():
    code = (
        "import sys, django; django.setup();"
        "from django.core.management import call_command; call_command('check');"
        "import shop_demo.wsgi, shop_demo.urls;"
        "assert 'tensorflow' not in sys.modules, 'tensorflow imported'"
    )
    env = {"DJANGO_SETTINGS_MODULE": "shop_demo.settings", "PATH": "/usr/bin:/bin"}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False)
    assert result.returncode == 0, result.stderr


@pytest.mark.django_db
def test_get_by_ids_reads_related_fields_in_one_query(django_assert_num_queries):
    from promotions.products import get_adapter
    from shop_demo.models import Brand, Category, Product

    category, brand = Category.objects.create(name="Mugs", slug="mugs"), Brand.objects.create(name="Acme")
    for code in ("A", "B", "C"):
        Product.objects.create(stock_code=code, title=code, category=category, brand=brand, price=1)
    adapter = get_adapter()
    with django_assert_num_queries(1):
        infos = [adapter.info(product) for product in adapter.get_by_ids(["A", "B", "C"]).values()]
    assert {(info.category, info.brand) for info in infos} == {("Mugs", "Acme")}
