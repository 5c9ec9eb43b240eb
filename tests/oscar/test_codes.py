"""The app's coupon codes in Oscar's own voucher form, and a single-use code used twice at once."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.db import connection, connections
from django.test import Client
from django.urls import reverse
from oscar.core.loading import get_model

from promotions.offers.models import CouponCode, Promotion, Redemption
from promotions.offers.service import forget_live_promotions

from .conftest import BROWSER, checkout_to_preview, place_order

Order = get_model("order", "Order")


def code_promotion() -> CouponCode:
    promotion = Promotion.objects.create(
        name="Welcome",
        message="5 off with your code",
        kind=Promotion.Kind.FIXED_AMOUNT,
        value=Decimal("5.00"),
        coupon_required=True,
        status=Promotion.Status.ACTIVE,
    )
    forget_live_promotions()
    return CouponCode.objects.create(promotion=promotion, code="ONCE-ABC", single_use=True)


def basket_with_code(client: Client, product) -> None:
    client.post(reverse("basket:add", kwargs={"pk": product.pk}), {"quantity": 1})
    client.post(reverse("basket:vouchers-add"), {"code": "once-abc"})


@pytest.mark.django_db
def test_an_app_code_entered_in_oscars_voucher_form_discounts_the_basket(visitor, shop):
    code_promotion()
    basket_with_code(visitor, shop["mug"])
    page = visitor.get(reverse("basket:summary"))
    assert "The code ONCE-ABC has been applied to your basket." in page.text
    assert page.context["basket"].total_incl_tax == Decimal("3.00")  # 8.00 less the code's 5.00
    checkout_to_preview(visitor)
    assert place_order(visitor).url == reverse("checkout:thank-you")
    assert Order.objects.get().total_incl_tax == Decimal("3.00")
    assert CouponCode.objects.get().used == 1 and Redemption.objects.get().code.code == "ONCE-ABC"
    assert "promotions_oscar_codes" not in visitor.session  # the next basket starts without the code


@pytest.mark.django_db
def test_a_used_single_use_code_is_refused_in_the_voucher_form(visitor, shop):
    coupon = code_promotion()
    CouponCode.objects.filter(pk=coupon.pk).update(used=1)
    basket_with_code(visitor, shop["mug"])
    page = visitor.get(reverse("basket:summary"))
    assert "The code ONCE-ABC has already been used." in page.text
    assert page.context["basket"].total_incl_tax == Decimal("8.00")


@pytest.mark.django_db(transaction=True)
def test_a_single_use_code_used_twice_at_once_gives_one_discount(shop, postgres_available):
    if connection.vendor != "postgresql":
        pytest.skip("row locks are tested in the PostgreSQL pass (DATABASE_URL=postgres://...)")
    code_promotion()
    shoppers = [Client(HTTP_USER_AGENT=BROWSER) for _ in range(2)]
    for n, shopper in enumerate(shoppers):
        basket_with_code(shopper, shop["mug"])
        checkout_to_preview(shopper, email=f"shopper{n}@example.com")
    barrier = threading.Barrier(len(shoppers))
    answers: list[int] = []

    def submit(shopper: Client) -> None:
        try:
            barrier.wait()
            answers.append(place_order(shopper).status_code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=submit, args=(shopper,)) for shopper in shoppers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(answers) == 2
    assert Order.objects.count() == 1 and Order.objects.get().total_incl_tax == Decimal("3.00")
    assert Redemption.objects.count() == 1 and CouponCode.objects.get().used == 1
