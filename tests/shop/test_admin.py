from decimal import Decimal

import pytest
from django.urls import reverse

from shop_demo.models import Order, OrderLine, Review


@pytest.fixture
def order(customer, mug, teapot) -> Order:
    order = Order.objects.create(user=customer, created_at="2024-01-01T00:00Z")
    OrderLine.objects.create(order=order, product=mug, quantity=2, unit_price=Decimal("3.50"))
    OrderLine.objects.create(order=order, product=teapot, quantity=1, unit_price=Decimal("12.25"))
    return order


@pytest.mark.parametrize("model", ["product", "category", "brand", "order", "review"])
def test_changelists_render(admin_client, order, gnome, customer, model):
    Review.objects.create(user=customer, product=gnome, rating=3)
    response = admin_client.get(reverse(f"admin:shop_demo_{model}_changelist"))
    assert response.status_code == 200


def test_order_list_shows_totals(admin_client, order):
    response = admin_client.get(reverse("admin:shop_demo_order_changelist"))
    assert "19.25" in response.text


def test_order_change_page_shows_lines_and_total(admin_client, order):
    response = admin_client.get(reverse("admin:shop_demo_order_change", args=[order.pk]))
    assert response.status_code == 200
    assert "19.25" in response.text
    assert "7.00" in response.text


def test_product_search_and_filter(admin_client, mug, gnome):
    url = reverse("admin:shop_demo_product_changelist")
    assert admin_client.get(url, {"q": "gnm1"}).context["cl"].result_count == 1
    assert admin_client.get(url, {"in_stock__exact": "0"}).context["cl"].result_count == 1
