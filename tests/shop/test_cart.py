from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from shop_demo.cart import MAX_QUANTITY, SHIPPING_FEE, Cart, cart_total

from .conftest import cart_of, put_in_cart


class FakeRequest:
    def __init__(self):
        self.session = {}


def test_cart_adds_sets_and_removes(mug, teapot):
    request = FakeRequest()
    cart = Cart(request)
    cart.add(mug)
    cart.add(mug, 2)
    cart.add(teapot)
    assert request.session["cart"] == {"MUG1": 3, "TEA1": 1}
    assert len(cart) == 4
    cart.set(mug, 5)
    cart.remove(teapot)
    assert request.session["cart"] == {"MUG1": 5}
    cart.set(mug, 0)
    assert request.session["cart"] == {}
    assert not cart


def test_cart_caps_quantities(mug):
    cart = Cart(FakeRequest())
    cart.add(mug, MAX_QUANTITY)
    cart.add(mug, 5)
    assert cart.quantities == {"MUG1": MAX_QUANTITY}


def test_cart_lines_and_total_are_decimal(mug, teapot):
    cart = Cart(FakeRequest())
    cart.add(mug, 3)
    cart.add(teapot, 2)
    lines = cart.lines()
    assert [(line.product.stock_code, line.line_total) for line in lines] == [
        ("TEA1", Decimal("24.50")),
        ("MUG1", Decimal("10.50")),
    ]
    assert cart_total(lines) == Decimal("35.00")


def test_cart_forgets_deleted_products(mug, teapot):
    cart = Cart(FakeRequest())
    cart.add(mug)
    cart.add(teapot)
    teapot.delete()
    assert [line.product for line in cart.lines()] == [mug]


def test_add_view_puts_the_product_in_the_session_cart(client, mug):
    response = client.post(reverse("shop:cart_add", args=["MUG1"]), {"quantity": "2"})
    assert response.status_code == 302
    assert response.url == reverse("shop:cart")
    client.post(reverse("shop:cart_add", args=["MUG1"]), {"quantity": "1"})
    assert cart_of(client) == {"MUG1": 3}


def test_header_shows_cart_count(client, mug):
    client.post(reverse("shop:cart_add", args=["MUG1"]), {"quantity": "2"})
    assert client.get(reverse("shop:home")).context["cart_count"] == 2


@pytest.mark.parametrize("quantity", ["0", "-1", "abc", "1000", ""])
def test_add_view_refuses_bad_quantities(client, mug, quantity):
    response = client.post(reverse("shop:cart_add", args=["MUG1"]), {"quantity": quantity})
    assert response.status_code == 302
    assert cart_of(client) == {}


def test_out_of_stock_product_cannot_be_added(client, gnome):
    response = client.post(reverse("shop:cart_add", args=["GNM1"]), {"quantity": "1"}, follow=True)
    assert cart_of(client) == {}
    assert "Sorry, Garden gnome is out of stock." in response.text


def test_adding_an_unknown_product_is_404(client, db):
    assert client.post(reverse("shop:cart_add", args=["NOPE"]), {"quantity": "1"}).status_code == 404


def test_update_view_sets_quantity_and_zero_removes(client, mug, teapot):
    put_in_cart(client, {"MUG1": 1, "TEA1": 1})
    client.post(reverse("shop:cart_update", args=["MUG1"]), {"quantity": "4"})
    assert cart_of(client) == {"MUG1": 4, "TEA1": 1}
    client.post(reverse("shop:cart_update", args=["TEA1"]), {"quantity": "0"})
    assert cart_of(client) == {"MUG1": 4}


def test_update_view_ignores_bad_quantity(client, mug):
    put_in_cart(client, {"MUG1": 2})
    response = client.post(reverse("shop:cart_update", args=["MUG1"]), {"quantity": "many"}, follow=True)
    assert response.status_code == 200
    assert cart_of(client) == {"MUG1": 2}
    assert "Please enter a valid quantity." in response.text


def test_remove_view(client, mug, teapot):
    put_in_cart(client, {"MUG1": 1, "TEA1": 2})
    client.post(reverse("shop:cart_remove", args=["MUG1"]))
    assert cart_of(client) == {"TEA1": 2}


def test_cart_page_shows_line_totals_subtotal_shipping_and_total(client, mug, teapot):
    put_in_cart(client, {"MUG1": 3, "TEA1": 2})
    response = client.get(reverse("shop:cart"))
    assert response.status_code == 200
    assert response.context["priced"].subtotal == Decimal("35.00")
    assert response.context["total"] == Decimal("35.00") + SHIPPING_FEE
    assert "£10.50" in response.text
    assert "£24.50" in response.text
    assert "£35.00" in response.text
    assert f"£{Decimal('35.00') + SHIPPING_FEE}" in response.text


def test_empty_cart_page(client, db):
    response = client.get(reverse("shop:cart"))
    assert response.status_code == 200
    assert "Your cart is empty." in response.text


@pytest.mark.parametrize("name", ["shop:cart_add", "shop:cart_update", "shop:cart_remove"])
def test_cart_changes_refuse_get(client, mug, name):
    assert client.get(reverse(name, args=["MUG1"])).status_code == 405


def test_cart_changes_need_the_csrf_token(mug):
    client = Client(enforce_csrf_checks=True)
    response = client.post(reverse("shop:cart_add", args=["MUG1"]), {"quantity": "1"})
    assert response.status_code == 403
    assert cart_of(client) == {}
