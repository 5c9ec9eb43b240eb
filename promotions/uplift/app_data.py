"""Uplift models from the randomized data the app produces itself: Django glue around the pure modules.

A promotion with an uplift holdout (``Promotion.uplift_holdout``) is withheld at random from that
share of the visitors eligible to see it, and every eligible visitor, shown or withheld, gets one
``uplift_assignment`` event per day (``promotions.uplift.serving``). Training takes, per promotion,
each visitor's first assignment whose attribution click window (``ATTRIBUTION_CLICK_DAYS``) has
ended, their behavior features as of that moment (``features.behavior_features_at``), and whether
they bought anything within that window after it; a T-learner of two logistic regressions is fitted
and scored on a held-out part (``linear.fit_and_evaluate``) and stored as a
``PromotionUpliftModel`` row, which the ranking reads.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
from django.utils import timezone

from ..cards import cards
from ..conf import app_settings
from ..tracking.models import Event, EventType
from .features import BehaviorEvent, BehaviorFeatures, behavior_features_at
from .linear import fit_and_evaluate

UPLIFT_ASSIGNMENT = EventType.UPLIFT_ASSIGNMENT
#: Logging events of the app itself, not something the visitor did: no feature is built from them.
INTERNAL_EVENT_TYPES = (UPLIFT_ASSIGNMENT, EventType.BANDIT_PICK)
#: Visitor ids per query (IN lists of bounded size on every database).
CHUNK = 1000


def _chunks(values: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


def to_behavior(rows: Iterable[tuple]) -> list[BehaviorEvent]:
    """``BehaviorEvent`` tuples from (visitor id, time, type, item id, unit price, quantity, context) rows.

    The category is the product's as the catalogue reports it now; the device is the one the
    beacon recorded (none for server-side events, at training and serving alike).
    """
    rows = list(rows)
    categories = {item: card.category for item, card in cards({row[3] for row in rows if row[3]}).items()}
    events = []
    for visitor, at, event_type, item, unit_price, quantity, context in rows:
        revenue = float((unit_price or Decimal(0)) * (quantity or 1)) if event_type == EventType.PURCHASE else 0.0
        device = context.get("device", "") if isinstance(context, dict) else ""
        events.append(BehaviorEvent(visitor, at, event_type, categories.get(item, ""), device, revenue))
    return events


BEHAVIOR_FIELDS = ("visitor_id", "occurred_at", "event_type", "item_id", "unit_price", "quantity", "context")


def latest_history(events: Iterable[BehaviorEvent], as_of: dict[str, datetime]) -> list[BehaviorEvent]:
    """Each visitor's last ``UPLIFT_HISTORY_EVENTS`` events before their own ``as_of`` (what serving reads too)."""
    kept: dict[str, list[BehaviorEvent]] = defaultdict(list)
    for event in events:
        moment = as_of.get(event.visitor_id)
        if moment is not None and event.occurred_at < moment:
            kept[event.visitor_id].append(event)
    last = app_settings.UPLIFT_HISTORY_EVENTS
    return [event for rows in kept.values() for event in sorted(rows, key=lambda e: e.occurred_at)[-last:]]


def history_before(as_of: dict[str, datetime]) -> list[BehaviorEvent]:
    """These visitors' last ``UPLIFT_HISTORY_EVENTS`` events before their own time, from the database."""
    ids = list(as_of)
    until = max(as_of.values(), default=timezone.now())
    rows = []
    for chunk in _chunks(ids):
        rows += list(
            Event.objects.filter(visitor_id__in=chunk, occurred_at__lt=until)
            .exclude(event_type__in=INTERNAL_EVENT_TYPES)
            .values_list(*BEHAVIOR_FIELDS)
        )
    return latest_history(to_behavior(rows), as_of)


def visitor_features(as_of: dict[str, datetime], categories: Sequence[str] | None = None) -> BehaviorFeatures:
    """Behavior features of these visitors, each as of their own time."""
    return behavior_features_at(history_before(as_of), as_of, categories)


def first_assignments(promotion_id: int, since: datetime, until: datetime) -> dict[str, tuple[datetime, bool]]:
    """Visitor -> (time, withheld) of their first assignment to the promotion in [since, until)."""
    first: dict[str, tuple[datetime, bool]] = {}
    for visitor, at, context in (
        Event.objects.filter(
            event_type=UPLIFT_ASSIGNMENT, promotion_id=promotion_id, occurred_at__gte=since, occurred_at__lt=until
        )
        .order_by("occurred_at")
        .values_list("visitor_id", "occurred_at", "context")
        .iterator(2000)
    ):
        if visitor not in first:
            first[visitor] = (at, bool(isinstance(context, dict) and context.get("withheld")))
    return first


def bought_within(as_of: dict[str, datetime], window: timedelta) -> dict[str, bool]:
    """Visitor -> whether they bought anything in (as_of, as_of + window]."""
    ids = list(as_of)
    bought = dict.fromkeys(ids, False)
    if not ids:
        return bought
    since, until = min(as_of.values()), max(as_of.values()) + window
    for chunk in _chunks(ids):
        for visitor, at in Event.objects.filter(
            event_type=EventType.PURCHASE, visitor_id__in=chunk, occurred_at__gt=since, occurred_at__lte=until
        ).values_list("visitor_id", "occurred_at"):
            if as_of[visitor] < at <= as_of[visitor] + window:
                bought[visitor] = True
    return bought


@dataclass(frozen=True)
class TrainingOutcome:
    """What training did for one promotion: the stored model, or why there is none."""

    promotion_id: int
    n_treated: int
    n_control: int
    model: Any = None  # the PromotionUpliftModel row
    skipped: str = ""


def click_window() -> timedelta:
    return timedelta(days=app_settings.ATTRIBUTION_CLICK_DAYS)


def train_promotion(
    promotion_id: int, now: datetime, days: int | None = None, min_per_arm: int | None = None, seed: int = 0
) -> TrainingOutcome:
    """Fit, score and store one promotion's uplift model from its assignments whose window has ended
    (``days`` and ``min_per_arm`` default to ``UPLIFT_TRAINING_DAYS`` and ``UPLIFT_MIN_PER_ARM``)."""
    from ..offers.models import PromotionUpliftModel

    days = app_settings.UPLIFT_TRAINING_DAYS if days is None else days
    min_per_arm = app_settings.UPLIFT_MIN_PER_ARM if min_per_arm is None else min_per_arm

    window = click_window()
    assigned = first_assignments(promotion_id, now - timedelta(days=days), now - window)
    withheld = np.array([flag for _at, flag in assigned.values()], dtype=bool)
    n_control = int(withheld.sum())
    n_treated = int(withheld.size - n_control)
    if min(n_treated, n_control) < min_per_arm:
        return TrainingOutcome(
            promotion_id,
            n_treated,
            n_control,
            skipped=f"{n_treated} shown and {n_control} withheld visitors (each needs {min_per_arm})",
        )
    as_of = {visitor: at for visitor, (at, _flag) in assigned.items()}
    features = visitor_features(as_of)
    bought = bought_within(as_of, window)
    outcome = np.array([bought[visitor] for visitor in features.visitor_ids], dtype=float)
    try:
        trained = fit_and_evaluate(features.matrix, (~withheld).astype(int), outcome, features.names, seed=seed)
    except ValueError as error:  # no buyer in one group, or too few to split: nothing to learn yet
        return TrainingOutcome(promotion_id, n_treated, n_control, skipped=str(error))
    row = PromotionUpliftModel.objects.create(
        promotion_id=promotion_id,
        n_treated=trained.n_treated,
        n_control=trained.n_control,
        qini=trained.qini if np.isfinite(trained.qini) else None,
        auuc=trained.auuc if np.isfinite(trained.auuc) else None,
        feature_names=list(trained.model.names),
        parameters=trained.model.to_dict(),
    )
    return TrainingOutcome(promotion_id, n_treated, n_control, model=row)


def promotions_with_assignments(since: datetime) -> list[int]:
    return sorted(
        Event.objects.filter(event_type=UPLIFT_ASSIGNMENT, occurred_at__gte=since, promotion_id__isnull=False)
        .values_list("promotion_id", flat=True)
        .distinct()
    )


def train_uplift_models(
    now: datetime | None = None,
    days: int | None = None,
    min_per_arm: int | None = None,
    promotion_ids: Sequence[int] | None = None,
    seed: int = 0,
) -> list[TrainingOutcome]:
    """Train every promotion that logged assignments in the window (or those named)."""
    now = now or timezone.now()
    days = app_settings.UPLIFT_TRAINING_DAYS if days is None else days
    ids = promotion_ids if promotion_ids is not None else promotions_with_assignments(now - timedelta(days=days))
    return [train_promotion(pk, now, days, min_per_arm, seed) for pk in ids]
