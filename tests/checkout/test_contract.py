"""promotions.checkout: what a shopper is quoted is what the order records, or a typed error."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone

from promotions import checkout
from promotions.offers.models import CouponCode, Promotion, Redemption
from promotions.offers.service import forget_live_promotions
from tests.offers.conftest import make_promotion, visitor_request

pytestmark = pytest.mark.django_db

CANDLES = [checkout.BasketLine("CAN1", 2)]  # 2 x 10.00, category and price from the product adapter
ANON = checkout.Shopper(session_key="s1")


def candle_offer(**fields) -> Promotion:
    values = {"name": "Candles 20%", "message": "20% off candles", "value": Decimal(20)}
    values.update(target_kind=Promotion.TargetKind.CATEGORIES, target_values=["Candles"], **fields)
    return make_promotion(**values)


def test_a_basket_is_priced_line_by_line_with_a_quote(products):
    promotion = candle_offer()
    lines = [*CANDLES, checkout.BasketLine("MUG1", 1, Decimal("5.00"), category="Kitchen")]
    basket = checkout.price_basket(ANON, lines, shipping=Decimal("4.95"))
    assert [(line.item_id, line.unit_price, line.discount, line.total) for line in basket.lines] == [
        ("CAN1", Decimal("10.00"), Decimal("4.00"), Decimal("16.00")),
        ("MUG1", Decimal("5.00"), Decimal("0"), Decimal("5.00")),
    ]
    assert (basket.subtotal, basket.discount, basket.shipping, basket.total) == (
        Decimal("25.00"),
        Decimal("4.00"),
        Decimal("4.95"),
        Decimal("25.95"),
    )
    [applied] = basket.applied
    assert (applied.promotion_id, applied.name, applied.message, applied.code) == (
        promotion.pk,
        "Candles 20%",
        "20% off candles",
        "",
    )
    assert applied.amount == Decimal("4.00") and applied.line_amounts == (Decimal("4.00"), Decimal("0"))
    assert checkout.read_quote(basket.quote) == {"a": [[promotion.pk, "", "4.00"]], "d": "4.00", "t": "25.95"}
    assert basket.not_applied == ()


def test_redeem_records_the_quoted_discounts_once_and_refund_gives_the_budget_back(products):
    promotion = candle_offer(max_discount_total=Decimal("100.00"))
    basket = checkout.price_basket(ANON, CANDLES)
    with transaction.atomic():
        [redemption] = checkout.redeem(ANON, CANDLES, quote=basket.quote, order_id="A1", email="Bo@Example.com")
    assert (redemption.order_ref, redemption.discount, redemption.order_total) == (
        "A1",
        Decimal("4.00"),
        Decimal("16.00"),
    )
    # The same order again (a retry): the redemptions already recorded, nothing taken twice.
    assert checkout.redeem(ANON, CANDLES, quote=basket.quote, order_id="A1") == [redemption]
    promotion.refresh_from_db()
    assert (promotion.redemptions_count, promotion.discount_spent) == (1, Decimal("4.00"))
    assert checkout.refund("A1") == Decimal("4.00")
    assert checkout.refund("A1") == Decimal("0")
    promotion.refresh_from_db()
    assert (promotion.redemptions_count, promotion.discount_spent) == (0, Decimal("0.00"))


def quoted_then(change, products, *, shopper=ANON, code="", **fields):
    """Quote a basket, apply ``change`` (what happened since), redeem: the error it raises."""
    promotion = candle_offer(**fields)
    codes = [code] if code else []
    basket = checkout.price_basket(shopper, CANDLES, codes=codes)
    assert basket.discount == Decimal("4.00")
    change(promotion)
    forget_live_promotions()
    with pytest.raises(checkout.CheckoutError) as caught, transaction.atomic():
        checkout.redeem(shopper, CANDLES, codes=codes, quote=basket.quote, order_id="B1")
    assert not Redemption.objects.filter(order_ref="B1").exists()
    # The new price to confirm, with its own quote; confirming it places the order at that price.
    new = caught.value.new_basket
    assert new.total == Decimal("20.00") and new.discount == 0
    assert checkout.redeem(shopper, CANDLES, codes=codes, quote=new.quote, order_id="B2") == []
    return caught.value


def test_a_single_use_code_used_since_the_quote_stops_the_order(products):
    promotion = candle_offer(coupon_required=True)
    CouponCode.objects.create(promotion=promotion, code="ONCE", single_use=True)
    mine = checkout.price_basket(ANON, CANDLES, codes=["once"])
    theirs = checkout.Shopper(session_key="someone else")
    assert [a.code for a in mine.applied] == ["ONCE"]
    checkout.redeem(theirs, CANDLES, codes=["once"], quote=mine.quote, order_id="theirs")
    with pytest.raises(checkout.CodeAlreadyUsed) as caught:
        checkout.redeem(ANON, CANDLES, codes=["once"], quote=mine.quote, order_id="B1")
    assert caught.value.message.startswith("The code ONCE has already been used.")
    assert caught.value.new_basket.total == Decimal("20.00")
    assert caught.value.new_basket.not_applied_for("once").reason == "code_used"
    assert not Redemption.objects.filter(order_ref="B1").exists()


def test_a_spent_budget_stops_the_order(products):
    error = quoted_then(
        lambda p: Promotion.objects.filter(pk=p.pk).update(discount_spent=Decimal("10.00")),
        products,
        max_discount_total=Decimal("10.00"),
    )
    assert isinstance(error, checkout.BudgetSpent)
    assert (
        error.message == "The offer “20% off candles” has run out. Please check the new total and confirm your order."
    )


def test_max_redemptions_reached_stops_the_order(products):
    error = quoted_then(
        lambda p: Promotion.objects.filter(pk=p.pk).update(redemptions_count=3), products, max_redemptions=3
    )
    assert isinstance(error, checkout.BudgetSpent)


def test_an_ended_promotion_stops_the_order(products):
    ended = timezone.now() - timedelta(seconds=1)
    error = quoted_then(lambda p: Promotion.objects.filter(pk=p.pk).update(ends_at=ended), products)
    assert isinstance(error, checkout.PromotionEnded)
    assert "has ended" in error.message


def test_a_paused_promotion_stops_the_order(products):
    error = quoted_then(lambda p: Promotion.objects.filter(pk=p.pk).update(status=Promotion.Status.PAUSED), products)
    assert isinstance(error, checkout.PromotionEnded)


def test_the_per_customer_limit_reached_since_the_quote_stops_the_order(products):
    shopper = checkout.Shopper(email="bo@example.com")

    def used_in_another_session(promotion):
        other = checkout.Shopper(session_key="phone", email="BO@example.com ")
        quote = checkout.price_basket(other, CANDLES).quote
        checkout.redeem(other, CANDLES, quote=quote, order_id="phone-order")

    error = quoted_then(used_in_another_session, products, shopper=shopper, per_customer_limit=1)
    assert isinstance(error, checkout.CustomerLimitReached)
    assert "You have already used the offer" in error.message


@pytest.mark.parametrize("quote", ["", "forged", None])
def test_a_missing_or_forged_quote_is_a_price_change(products, quote):
    candle_offer()
    shown = checkout.price_basket(ANON, CANDLES).quote
    forged = shown.replace(shown[5], "x" if shown[5] != "x" else "y", 1) if quote is None else quote
    with pytest.raises(checkout.PriceChanged) as caught:
        checkout.redeem(ANON, CANDLES, quote=forged, order_id="C1")
    assert checkout.read_quote(caught.value.new_basket.quote) == checkout.read_quote(shown)


def test_a_price_changed_since_the_quote_is_a_price_change(products):
    shown = checkout.price_basket(ANON, CANDLES).quote
    dearer = [checkout.BasketLine("CAN1", 2, Decimal("11.00"))]
    with pytest.raises(checkout.PriceChanged, match="The price of your order has changed"):
        checkout.redeem(ANON, dearer, quote=shown, order_id="C1")


def test_limits_per_customer_hold_without_tracking_consent(products):
    candle_offer(per_customer_limit=1)
    declined = visitor_request(allowed=False)  # no visitor id: the banner was declined
    declined.session = type("Session", (dict,), {"session_key": "sess-1"})()
    first = checkout.price_basket(declined, CANDLES)
    checkout.redeem(declined, CANDLES, quote=first.quote, order_id="1", email="x@example.com")
    again = checkout.price_basket(declined, CANDLES)
    assert again.discount == 0
    assert [entry.reason for entry in again.not_applied] == ["customer_limit"]
    # A new session (cookies cleared) with the same e-mail is still the same customer.
    fresh = checkout.Shopper(session_key="sess-2")
    quote = checkout.price_basket(fresh, CANDLES).quote
    with pytest.raises(checkout.CustomerLimitReached):
        checkout.redeem(fresh, CANDLES, quote=quote, order_id="2", email="x@example.com")
    Redemption.objects.update(email_hash="")
    checkout.redeem(fresh, CANDLES, quote=quote, order_id="3", email="x@example.com")
    with pytest.raises(checkout.CustomerLimitReached):
        quote = checkout.price_basket(checkout.Shopper(session_key="sess-3"), CANDLES).quote
        checkout.redeem(
            checkout.Shopper(session_key="sess-3"), CANDLES, quote=quote, order_id="4", email="X@example.com"
        )


def test_why_a_code_does_not_apply(products):
    welcome = make_promotion(name="Welcome", message="10% off your first order", coupon_required=True)
    CouponCode.objects.create(promotion=welcome, code="WELCOME10")
    mugs = make_promotion(
        name="Mugs",
        message="Mugs 50%",
        value=Decimal(50),
        coupon_required=True,
        target_kind=Promotion.TargetKind.CATEGORIES,
        target_values=["Kitchen"],
    )
    CouponCode.objects.create(promotion=mugs, code="MUGS")
    big = candle_offer(exclusive=True, value=Decimal(30), message="30% off candles")
    basket = checkout.price_basket(ANON, CANDLES, codes=["welcome10", "mugs", "nope"])
    assert [a.promotion_id for a in basket.applied] == [big.pk]
    reasons = {entry.code: (entry.promotion_id, entry.reason, entry.message) for entry in basket.not_applied}
    assert reasons == {
        "NOPE": (None, "unknown_code", "The code NOPE is not valid."),
        "WELCOME10": (
            welcome.pk,
            "better_offer",
            "The offer “10% off your first order” does not combine with “30% off candles”, which gives you more.",
        ),
        "MUGS": (mugs.pk, "not_in_basket", "The offer “Mugs 50%” does not cover the products in your cart."),
    }


def test_an_explicit_shopper_needs_no_request(products):
    signed_in_only = candle_offer(signed_in_only=True)
    assert checkout.price_basket(checkout.Shopper(), CANDLES).discount == 0
    basket = checkout.price_basket(checkout.Shopper(user_id=None, email="a@b.c"), CANDLES, codes=[])
    assert basket.not_applied == ()  # an automatic promotion the shopper may not use is not noise
    assert signed_in_only.pk not in [a.promotion_id for a in basket.applied]


def test_shopper_from_a_request(products, django_user_model):
    user = django_user_model.objects.create_user("ann", "ann@example.com", "x")
    request = visitor_request(user=user)
    shopper = checkout.Shopper.from_request(request)
    assert (shopper.visitor_id, shopper.user_id, shopper.email, shopper.tracked) == (
        "a" * 32,
        user.pk,
        "ann@example.com",
        True,
    )
    assert checkout.Shopper.from_request(request, email="other@example.com").email == "other@example.com"


def test_a_price_written_differently_is_the_same_price(products):
    candle_offer()
    shown = checkout.price_basket(ANON, [checkout.BasketLine("CAN1", 2, Decimal("10"))]).quote
    same = [checkout.BasketLine("CAN1", 2, Decimal("10.000"))]
    [redemption] = checkout.redeem(ANON, same, quote=shown, order_id="D1")
    assert redemption.discount == Decimal("4.00")
