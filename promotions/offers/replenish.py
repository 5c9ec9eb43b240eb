"""Buy again for one customer: their own purchases ranked by the repurchase model, and the items
due for them, which a replenishment promotion ("your usual, 10% off this week") targets.

The repurchase model (``promotions.recommenders.repurchase``) is fitted on the customer's own
purchase events only (at most ``BUY_AGAIN_LOOKBACK_DAYS`` back): it needs no training run and
answers for a purchase made a minute ago. Due-ness is judged at the start of the current day
(UTC) over the next ``REPLENISHMENT_HORIZON_DAYS``, so the items due, and with them a
replenishment promotion's discount, stay the same from the page that shows it to the checkout
that charges it (unless the customer buys one of them meanwhile: then it is no longer due).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from django.utils import timezone

from ..conf import app_settings
from ..recommenders import Interactions, Recommendation, RepurchaseRecommender, Weighting
from ..tracking.models import Event, EventType
from .models import Promotion

#: An item is due when its due-ness (1 = due exactly now) is at least this, over the horizon.
MIN_DUE = 0.7
#: "Your usual": bought on at least this many distinct days.
MIN_OCCASIONS = 2
PURCHASES = Weighting(event_weights={EventType.PURCHASE: 1.0}, default_event_weight=0.0, quantity="ignore")


def today() -> float:
    """The start of the current UTC day, in epoch seconds: when due-ness is judged."""
    now = timezone.now().astimezone(UTC)
    return datetime(now.year, now.month, now.day, tzinfo=UTC).timestamp()


def customer_model(visitor_id: str | None, user_id: int | None) -> RepurchaseRecommender | None:
    """The repurchase model of this customer's purchases (signed in: the user's, else the
    visitor's), or None when they bought nothing in the lookback window."""
    if user_id is None and not visitor_id:
        return None
    since = timezone.now() - timedelta(days=app_settings.BUY_AGAIN_LOOKBACK_DAYS)
    events = Event.objects.filter(event_type=EventType.PURCHASE, occurred_at__gte=since).exclude(item_id="")
    events = events.filter(user_id=user_id) if user_id is not None else events.filter(visitor_id=visitor_id)
    purchases = events.values_list("item_id", "occurred_at")
    rows = [("me", item, when.timestamp(), EventType.PURCHASE) for item, when in purchases]
    if not rows:
        return None
    return RepurchaseRecommender(horizon_days=float(app_settings.REPLENISHMENT_HORIZON_DAYS)).fit(
        Interactions.from_rows(rows, PURCHASES)
    )


def bought_before(visitor_id: str | None, user_id: int | None, k: int) -> list[tuple[Recommendation, float | None]]:
    """The customer's own items, the most likely to be bought again first (due ones ahead), each
    with its cycle in days when they bought it on two days or more (else None)."""
    model = customer_model(visitor_id, user_id)
    if model is None:
        return []
    at = today()
    parts = model.candidates("me", at=at)
    items = model.item_ids[parts["items"]].tolist()
    cycles = {
        item: (cycle if count >= MIN_OCCASIONS else None)
        for item, cycle, count in zip(items, parts["cycle"].tolist(), parts["count"].tolist(), strict=True)
    }
    return [(r, cycles.get(r.item_id)) for r in model.recommend("me", k=k, at=at)]


def due_item_ids(visitor_id: str | None, user_id: int | None) -> tuple[str, ...]:
    """The items due for this customer today: bought on two days or more, next purchase due
    within the horizon; the most due first."""
    model = customer_model(visitor_id, user_id)
    if model is None:
        return ()
    due = model.due_items("me", at=today(), min_due=MIN_DUE, min_count=MIN_OCCASIONS, k=50)
    return tuple(r.item_id for r in due)


def personalize(
    promotions: Iterable[Promotion], visitor_id: str | None, user_id: int | None, *, keep_empty: bool
) -> list[Promotion]:
    """The promotions with each replenishment promotion (target "items due") turned into a copy
    that targets this customer's due items (``replenishment_items`` on the copy lists them).

    ``keep_empty``: keep a replenishment promotion for a customer with nothing due, covering no
    product (checkout: it then gives no discount), rather than leaving it out (display).
    """
    result, due = [], None
    for promotion in promotions:
        if promotion.target_kind != Promotion.TargetKind.DUE:
            result.append(promotion)
            continue
        if due is None:
            due = due_item_ids(visitor_id, user_id)
        if not due and not keep_empty:
            continue
        personal = copy.copy(promotion)
        personal.target_kind = Promotion.TargetKind.PRODUCTS
        personal.target_values = list(due)
        personal.replenishment_items = due
        result.append(personal)
    return result
