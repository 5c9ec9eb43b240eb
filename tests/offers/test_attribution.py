"""Last-touch attribution: hand-made timelines (pure), then through the event log."""

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from promotions.offers.attribution import CLICK, EXPOSURE, Purchase, Touch, attribute
from promotions.offers.figures import compute_promotion_stats, promotion_figures
from promotions.offers.models import Redemption
from promotions.tracking.models import Event

from .conftest import make_promotion

DAY = 86_400.0


def test_a_click_within_seven_days_wins_over_a_later_exposure():
    touches = [Touch("v", 0.0, CLICK, promotion_id=1), Touch("v", 2 * DAY, EXPOSURE, promotion_id=2)]
    [credit] = attribute(touches, [Purchase("v", 3 * DAY, "A", 10.0)], 7 * DAY, DAY)
    assert (credit.promotion_id, credit.promotion_via) == (1, CLICK)


def test_windows_expire_and_only_the_same_visitor_counts():
    touches = [
        Touch("v", 0.0, CLICK, promotion_id=1),  # 8 days before: too old
        Touch("v", 6 * DAY, EXPOSURE, promotion_id=2),  # 2 days before: exposure window is 1 day
        Touch("w", 7.9 * DAY, CLICK, promotion_id=3),  # someone else
    ]
    [credit] = attribute(touches, [Purchase("v", 8 * DAY, "A", 10.0)], 7 * DAY, DAY)
    assert credit.promotion_id is None
    [credit] = attribute(touches, [Purchase("v", 6.5 * DAY, "A", 10.0)], 7 * DAY, DAY)
    assert (credit.promotion_id, credit.promotion_via) == (1, CLICK)  # the click is still within 7 days


def test_the_last_of_several_clicks_gets_the_credit_and_touches_after_the_purchase_do_not():
    touches = [
        Touch("v", 1.0, CLICK, promotion_id=1),
        Touch("v", 2.0, CLICK, promotion_id=2),
        Touch("v", 4.0, CLICK, promotion_id=3),
    ]
    [credit] = attribute(touches, [Purchase("v", 3.0, "A", 10.0)], 7 * DAY, DAY)
    assert credit.promotion_id == 2


def test_recommendations_are_credited_only_for_the_same_product():
    touches = [Touch("v", 1.0, CLICK, item_id="A"), Touch("v", 2.0, EXPOSURE, item_id="B")]
    credits = attribute(
        touches,
        [Purchase("v", 3.0, "A", 1.0), Purchase("v", 3.0, "B", 1.0), Purchase("v", 3.0, "C", 1.0)],
        7 * DAY,
        DAY,
    )
    assert [c.recommended_via for c in credits] == [CLICK, EXPOSURE, None]


def event(visitor, kind, when, **fields):
    return Event.objects.create(
        event_type=kind,
        visitor_id=visitor,
        occurred_at=when,
        idempotency_key=uuid.uuid4().hex,
        **fields,
    )


@pytest.mark.django_db
def test_figures_credit_the_right_promotion_and_count_redemptions():
    now = timezone.now()
    lanterns, candles = make_promotion(name="Lanterns"), make_promotion(name="Candles")
    event("v1", "promotion_impression", now - timedelta(hours=5), promotion_id=candles.pk, context={"device": "mobile"})
    event("v1", "promotion_click", now - timedelta(hours=4), promotion_id=lanterns.pk)
    event(
        "v1", "promotion_impression", now - timedelta(hours=3), promotion_id=lanterns.pk, context={"device": "mobile"}
    )
    event("v1", "purchase", now - timedelta(hours=2), item_id="L1", quantity=2, unit_price=Decimal("7.50"))
    event("v2", "promotion_impression", now - timedelta(hours=3), promotion_id=candles.pk)
    event("v2", "purchase", now - timedelta(hours=1), item_id="C1", quantity=1, unit_price=Decimal("4.00"))
    Redemption.objects.create(
        promotion=candles, order_ref="9", discount=Decimal("1.00"), redeemed_at=now - timedelta(hours=1)
    )
    figures = promotion_figures(now - timedelta(days=1), now)
    assert (figures[lanterns.pk].conversions, figures[lanterns.pk].revenue) == (1, 15.0)
    assert (figures[candles.pk].conversions, figures[candles.pk].revenue) == (
        1,
        4.0,
    )  # v2's exposure, v1 clicked lanterns
    assert (figures[candles.pk].impressions, figures[candles.pk].visitors, figures[candles.pk].redemptions) == (2, 2, 1)
    assert figures[lanterns.pk].clicks == 1 and figures[lanterns.pk].conversion_rate == 1.0

    stats = compute_promotion_stats(days=1, now=now)
    assert stats[str(candles.pk)]["overall"] == [2, 1, 4.0, 16.0]
    # v1 was first seen two hours before the lanterns impression: a returning visitor by then.
    assert stats[str(lanterns.pk)]["segments"] == {"returning|mobile|": [1, 1, 15.0, 225.0]}
