from decimal import Decimal

import pytest
from django.urls import reverse

from shop_demo import views
from shop_demo.models import Product, Review


def listed(response) -> list[str]:
    return [product.stock_code for product in response.context["page"]]


def test_home_lists_categories_and_all_products(client, mug, teapot, gnome):
    response = client.get(reverse("shop:home"))
    assert response.status_code == 200
    assert [c.name for c in response.context["categories"]] == ["Garden", "Kitchen"]
    assert listed(response) == ["TEA1", "GNM1", "MUG1"]  # title order
    assert "£3.50" in response.text


def test_home_hides_empty_categories(client, mug, garden):
    response = client.get(reverse("shop:home"))
    assert [c.name for c in response.context["categories"]] == ["Kitchen"]


def test_category_page_lists_its_products_with_breadcrumbs(client, mug, teapot, gnome, kitchen):
    response = client.get(kitchen.get_absolute_url())
    assert response.status_code == 200
    assert listed(response) == ["TEA1", "MUG1"]
    assert 'class="breadcrumbs"' in response.text
    assert reverse("shop:home") in response.text


def test_unknown_category_is_404(client, db):
    assert client.get(reverse("shop:category", args=["nope"])).status_code == 404


def test_listing_flags_stock(client, mug, gnome):
    text = client.get(reverse("shop:home")).text
    assert "In stock" in text
    assert "Out of stock" in text


def test_search_matches_title_and_stock_code(client, mug, teapot, gnome):
    assert listed(client.get(reverse("shop:search"), {"q": "teapot"})) == ["TEA1"]
    assert listed(client.get(reverse("shop:search"), {"q": "gnm1"})) == ["GNM1"]
    assert listed(client.get(reverse("shop:search"), {"q": "chair"})) == []


def test_empty_search_lists_nothing(client, mug):
    response = client.get(reverse("shop:search"), {"q": "  "})
    assert response.status_code == 200
    assert listed(response) == []


def test_pagination_keeps_the_query(client, kitchen, monkeypatch):
    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    Product.objects.bulk_create(
        Product(stock_code=f"C{i}", title=f"Candle {i}", price=Decimal("1.00"), category=kitchen) for i in range(5)
    )
    first = client.get(reverse("shop:search"), {"q": "candle"})
    assert listed(first) == ["C0", "C1"]
    assert "?q=candle&amp;page=2" in first.text
    assert listed(client.get(reverse("shop:search"), {"q": "candle", "page": 3})) == ["C4"]


def test_bad_page_number_shows_a_page(client, mug):
    assert client.get(reverse("shop:home"), {"page": "abc"}).status_code == 200
    assert client.get(reverse("shop:home"), {"page": "999"}).status_code == 200


def test_product_page_shows_price_stock_and_breadcrumbs(client, mug, kitchen):
    response = client.get(mug.get_absolute_url())
    assert response.status_code == 200
    text = response.text
    assert "Red spotty mug" in text
    assert "£3.50" in text
    assert "In stock" in text
    assert "Potter" in text
    assert kitchen.get_absolute_url() in text
    assert reverse("shop:cart_add", args=["MUG1"]) in text


def test_out_of_stock_product_page_has_no_add_to_cart(client, gnome):
    text = client.get(gnome.get_absolute_url()).text
    assert "Out of stock" in text
    assert reverse("shop:cart_add", args=["GNM1"]) not in text


def test_product_page_shows_average_rating_and_reviews(client, mug, django_user_model):
    for name, rating in [("ann", 5), ("bob", 4)]:
        user = django_user_model.objects.create_user(name, password="x")
        Review.objects.create(user=user, product=mug, rating=rating, text=f"Review by {name}")
    response = client.get(mug.get_absolute_url())
    assert response.context["rating"] == {"average": pytest.approx(4.5), "count": 2}
    assert "Rated 4.5 / 5 (2 reviews)" in response.text
    assert "Review by ann" in response.text
    assert "Review by bob" in response.text


def test_unknown_product_is_404(client, db):
    assert client.get(reverse("shop:product", args=["NOPE"])).status_code == 404
