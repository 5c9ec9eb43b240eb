from decimal import Decimal

import pytest
from django.urls import reverse

from shop_demo.cart import SHIPPING_FEE
from shop_demo.forms import CheckoutForm, luhn_valid
from shop_demo.models import Order, OrderLine

from .conftest import DECLINED_CARD, GOOD_CARD, cart_of, put_in_cart


def checkout_data(card: str = GOOD_CARD) -> dict[str, str]:
    return {"email": "buyer@example.com", "shipping_address": "1 High Street\nLondon", "card_number": card}


@pytest.mark.parametrize(
    ("number", "valid"),
    [("4242424242424242", True), ("79927398713", True), ("4242424242424241", False), ("1234567812345678", False)],
)
def test_luhn(number, valid):
    assert luhn_valid(number) is valid


@pytest.mark.parametrize("card", ["4242 4242 4242 4241", "12345", "4242-4242-4242-424x", "٤٢٤٢٤٢٤٢٤٢٤٢٤٢٤٢"])
def test_checkout_form_rejects_bad_card_numbers(card):
    form = CheckoutForm(checkout_data(card))
    assert not form.is_valid()
    assert "card_number" in form.errors


def test_checkout_form_keeps_bare_digits():
    form = CheckoutForm(checkout_data("4242-4242 4242-4242"))
    assert form.is_valid(), form.errors
    assert form.cleaned_data["card_number"] == "4242424242424242"


def test_checkout_creates_a_paid_order_at_current_prices_and_empties_the_cart(client, mug, teapot):
    put_in_cart(client, {"MUG1": 3, "TEA1": 1})
    mug.price = Decimal("4.00")  # the price when buying counts, not when adding
    mug.save()
    response = client.post(reverse("shop:checkout"), checkout_data())
    order = Order.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("shop:order", args=[order.pk])
    assert order.status == Order.Status.PAID
    assert order.user is None
    assert order.email == "buyer@example.com"
    assert order.shipping_address == "1 High Street\nLondon"
    lines = {line.product.stock_code: (line.quantity, line.unit_price) for line in order.lines.all()}
    assert lines == {"MUG1": (3, Decimal("4.00")), "TEA1": (1, Decimal("12.25"))}
    assert order.subtotal == Decimal("24.25")
    assert order.shipping == SHIPPING_FEE
    assert order.total == Decimal("24.25") + SHIPPING_FEE
    assert cart_of(client) == {}


def test_confirmation_page_shows_the_order(client, mug):
    put_in_cart(client, {"MUG1": 2})
    response = client.post(reverse("shop:checkout"), checkout_data(), follow=True)
    assert response.status_code == 200
    assert "Thank you!" in response.text
    assert "Red spotty mug" in response.text
    assert "£7.00" in response.text
    assert response.context["cart_count"] == 0


def test_signed_in_customer_order_belongs_to_them(customer_client, customer, mug):
    put_in_cart(customer_client, {"MUG1": 1})
    form_page = customer_client.get(reverse("shop:checkout"))
    assert form_page.context["form"].initial["email"] == "alice@example.com"
    customer_client.post(reverse("shop:checkout"), checkout_data())
    assert Order.objects.get().user == customer


def test_declined_card_creates_nothing_and_keeps_the_cart(client, mug):
    put_in_cart(client, {"MUG1": 2})
    response = client.post(reverse("shop:checkout"), checkout_data(DECLINED_CARD))
    assert response.status_code == 200
    assert response.context["form"].errors["card_number"] == ["Your card was declined. Please use another card."]
    assert Order.objects.count() == 0
    assert OrderLine.objects.count() == 0
    assert cart_of(client) == {"MUG1": 2}


def test_out_of_stock_product_cannot_be_checked_out(client, mug, gnome):
    put_in_cart(client, {"MUG1": 1, "GNM1": 1})  # the gnome sold out after it was added
    assert "Garden gnome" in client.get(reverse("shop:checkout")).context["out_of_stock"][0].title
    response = client.post(reverse("shop:checkout"), checkout_data())
    assert response.status_code == 200
    assert "Out of stock: Garden gnome" in response.context["form"].non_field_errors()[0]
    assert Order.objects.count() == 0
    assert cart_of(client) == {"MUG1": 1, "GNM1": 1}


@pytest.mark.parametrize("field", ["email", "shipping_address", "card_number"])
def test_missing_fields_are_form_errors(client, mug, field):
    put_in_cart(client, {"MUG1": 1})
    data = checkout_data()
    del data[field]
    response = client.post(reverse("shop:checkout"), data)
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert Order.objects.count() == 0


def test_empty_post_shows_errors(client, mug):
    put_in_cart(client, {"MUG1": 1})
    response = client.post(reverse("shop:checkout"), {})
    assert response.status_code == 200
    assert response.context["form"].errors


def test_empty_cart_goes_back_to_the_cart(client, db):
    response = client.post(reverse("shop:checkout"), checkout_data())
    assert response.status_code == 302
    assert response.url == reverse("shop:cart")
    assert Order.objects.count() == 0


def test_cart_of_deleted_products_goes_back_to_the_cart(client, mug):
    put_in_cart(client, {"GONE": 1})
    response = client.post(reverse("shop:checkout"), checkout_data())
    assert response.status_code == 302
    assert Order.objects.count() == 0


def test_checkout_refuses_other_methods(client, mug):
    put_in_cart(client, {"MUG1": 1})
    assert client.put(reverse("shop:checkout")).status_code == 405


def test_order_history_lists_own_orders(customer_client, customer, mug, teapot, django_user_model):
    put_in_cart(customer_client, {"TEA1": 2})
    customer_client.post(reverse("shop:checkout"), checkout_data())
    other = django_user_model.objects.create_user("bob", password="x")
    Order.objects.create(user=other, created_at="2024-01-01T00:00Z")
    response = customer_client.get(reverse("shop:orders"))
    assert response.status_code == 200
    assert [order.user for order in response.context["page"]] == [customer]
    assert f"£{Decimal('24.50') + SHIPPING_FEE}" in response.text


def test_order_history_needs_sign_in(client, db):
    response = client.get(reverse("shop:orders"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("shop:login"))


def test_others_cannot_see_an_order(client, customer, mug):
    order = Order.objects.create(user=customer, created_at="2024-01-01T00:00Z")
    assert client.get(reverse("shop:order", args=[order.pk])).status_code == 404
