"""The Oscar product adapter: prices and stock through Oscar's strategy, categories with their
ancestors, the brand attribute, images and URLs, parent and child products."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from oscar.core.loading import get_model

from promotions.contrib.oscar.products import OscarProductAdapter
from promotions.offers.pricing import Target

from .conftest import make_product

pytestmark = pytest.mark.django_db
Product = get_model("catalogue", "Product")
GIF = (  # a 1x1 GIF
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00,"
    b"\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
)


def test_a_standalone_product_is_read_through_oscars_strategy(shop):
    candle = shop["candle"]
    info = OscarProductAdapter().info(candle)
    assert (info.id, info.title, info.price, info.available) == (
        str(candle.pk),
        "Lavender candle",
        Decimal("12.00"),
        True,
    )
    assert info.category == "Candles > Scented"
    assert Target("categories", frozenset({"Candles"})).covers(info.id, info.category)
    assert Target("categories", frozenset({"Candles > Scented"})).covers(info.id, info.category)
    assert not Target("categories", frozenset({"Scented"})).covers(info.id, info.category)
    assert OscarProductAdapter().get_url(candle) == candle.get_absolute_url()
    assert OscarProductAdapter().get_image_url(candle) == ""  # Oscar's "missing image" is no image


def test_out_of_stock_is_unavailable_and_the_image_url_is_the_primary_images(shop):
    mug = shop["mug"]
    mug.stockrecords.update(num_in_stock=0)
    get_model("catalogue", "ProductImage").objects.create(
        product=mug, original=SimpleUploadedFile("mug.gif", GIF, content_type="image/gif"), display_order=0
    )
    mug = Product.objects.get(pk=mug.pk)
    adapter = OscarProductAdapter()
    assert adapter.is_available(mug) is False and adapter.info(mug).available is False
    assert adapter.get_image_url(mug).endswith(".gif") and "mug" in adapter.get_image_url(mug)


def test_children_take_their_parents_category_and_brand_and_parents_the_strategys_price(shop):
    product_class = shop["candle"].product_class
    brand = get_model("catalogue", "ProductAttribute").objects.create(
        product_class=product_class, name="Brand", code="brand", type="text"
    )
    scented = get_model("catalogue", "Category").objects.get(name="Scented")
    parent = Product.objects.create(title="Pillar candle", product_class=product_class, structure="parent")
    get_model("catalogue", "ProductCategory").objects.create(product=parent, category=scented)
    brand.save_value(parent, "Glow")
    small = make_product(None, "Small", "6.50")
    large = make_product(None, "Large", "9.00")
    Product.objects.filter(pk__in=[small.pk, large.pk]).update(parent=parent, structure="child", product_class=None)
    adapter = OscarProductAdapter()
    found = adapter.get_by_ids([str(parent.pk), str(small.pk), str(large.pk), "nope"])
    assert sorted(found) == sorted([str(parent.pk), str(small.pk), str(large.pk)])
    child = adapter.info(found[str(small.pk)])
    assert (child.title, child.category, child.brand, child.price) == (
        "Small",
        "Candles > Scented",
        "Glow",
        Decimal("6.50"),
    )
    oscar_price = adapter.strategy.fetch_for_parent(parent).price.incl_tax  # the shop's policy for parents
    assert adapter.info(found[str(parent.pk)]).price == oscar_price and oscar_price in {
        Decimal("6.50"),
        Decimal("9.00"),
    }
    assert str(parent.pk) in {adapter.get_id(p) for p in adapter.get_queryset()}
    assert str(small.pk) not in {adapter.get_id(p) for p in adapter.get_queryset()}  # variants are not browsable
