"""Redemptions against budgets: caps, limits, codes, refunds, and races at the limit."""

import threading
from decimal import Decimal

import pytest
from django.db import connection, connections, transaction

from promotions.offers.budget import RedemptionRefused, redeem, refund
from promotions.offers.models import CouponCode, Redemption

from .conftest import make_promotion


@pytest.mark.django_db
def test_a_discount_larger_than_the_budget_left_is_capped_and_refunds_return_it():
    promotion = make_promotion(max_discount_total=Decimal("10.00"))
    first = redeem(promotion.pk, Decimal("7.00"), order_ref="1")
    second = redeem(promotion.pk, Decimal("7.00"), order_ref="2")
    assert (first.discount, second.discount) == (Decimal("7.00"), Decimal("3.00"))
    with pytest.raises(RedemptionRefused):
        redeem(promotion.pk, Decimal("1.00"), order_ref="3")
    assert refund(first) is True and refund(first) is False
    promotion.refresh_from_db()
    assert promotion.discount_spent == Decimal("3.00") and promotion.redemptions_count == 1
    assert redeem(promotion.pk, Decimal("9.00"), order_ref="4").discount == Decimal("7.00")


@pytest.mark.django_db
def test_max_redemptions_and_per_customer_limit():
    promotion = make_promotion(max_redemptions=2, per_customer_limit=1)
    redeem(promotion.pk, Decimal("1"), order_ref="1", visitor_id="v1")
    with pytest.raises(RedemptionRefused, match="already used"):
        redeem(promotion.pk, Decimal("1"), order_ref="2", visitor_id="v1")
    redeem(promotion.pk, Decimal("1"), order_ref="3", visitor_id="v2")
    with pytest.raises(RedemptionRefused, match="run out"):
        redeem(promotion.pk, Decimal("1"), order_ref="4", visitor_id="v3")


@pytest.mark.django_db
def test_single_use_codes_work_once_and_codes_ignore_case():
    promotion = make_promotion(coupon_required=True)
    CouponCode.objects.create(promotion=promotion, code="once-1", single_use=True)
    CouponCode.objects.create(promotion=promotion, code="SHARED")
    redeem(promotion.pk, Decimal("1"), order_ref="1", code="once-1")
    with pytest.raises(RedemptionRefused, match="already been used"):
        redeem(promotion.pk, Decimal("1"), order_ref="2", code="ONCE-1")
    redeem(promotion.pk, Decimal("1"), order_ref="3", code="shared")
    redeem(promotion.pk, Decimal("1"), order_ref="4", code="Shared ")
    assert CouponCode.objects.get(code="SHARED").used == 2
    with pytest.raises(RedemptionRefused, match="not valid"):
        redeem(promotion.pk, Decimal("1"), order_ref="5", code="NOPE")


@pytest.mark.django_db
def test_a_rolled_back_order_gives_its_redemption_back():
    promotion = make_promotion(max_redemptions=1)
    with pytest.raises(RuntimeError), transaction.atomic():
        redeem(promotion.pk, Decimal("5"), order_ref="1")
        raise RuntimeError("payment failed")
    promotion.refresh_from_db()
    assert promotion.redemptions_count == 0 and not Redemption.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_concurrent_checkouts_at_the_budget_limit_never_overspend(postgres_available):
    if connection.vendor != "postgresql":
        pytest.skip("row locks are tested in the PostgreSQL pass (DATABASE_URL=postgres://...)")
    promotion = make_promotion(max_redemptions=5, max_discount_total=Decimal("40.00"))
    barrier = threading.Barrier(12)
    outcomes: list[str] = []

    def checkout(n: int) -> None:
        try:
            barrier.wait()
            with transaction.atomic():
                redeem(promotion.pk, Decimal("10.00"), order_ref=str(n), visitor_id=f"v{n}")
            outcomes.append("ok")
        except RedemptionRefused:
            outcomes.append("refused")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=checkout, args=(n,)) for n in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    promotion.refresh_from_db()
    granted = sorted(r.discount for r in Redemption.objects.filter(promotion=promotion))
    # 40.00 of budget: four full discounts; the fifth redemption would get nothing and is refused.
    assert outcomes.count("ok") == 4 and outcomes.count("refused") == 8
    assert granted == [Decimal("10.00")] * 4
    assert promotion.discount_spent == Decimal("40.00") and promotion.redemptions_count == 4
