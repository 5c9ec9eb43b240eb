"""What the app earns: conversion and revenue per visitor of personalized visitors vs the global
holdout, with confidence intervals, and how many more days the traffic needs to measure it."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import Q
from django.utils import timezone
from scipy.stats import norm

from ..conf import app_settings
from ..experiments.stats.inference import Comparison, MeanStats, ProportionStats, two_proportion_z_test, welch_t_test
from ..tracking.models import Event, EventType, Visitor
from ..visitors.holdout import is_held_out


def days_to_detect(
    baseline_rate: float,
    relative_mde: float,
    holdout_share: float,
    daily_visitors: float,
    alpha: float = 0.05,
    power: float = 0.8,
) -> float:
    """Days of traffic for a two-sided z-test to detect a relative lift of ``relative_mde`` over
    ``baseline_rate`` when only ``holdout_share`` of visitors is held out (unequal arms:
    variance p1(1-p1)/n1 + p2(1-p2)/n2 with n1 = share x N, n2 = (1 - share) x N)."""
    if not (0 < baseline_rate < 1 and 0 < holdout_share < 1 and daily_visitors > 0 and relative_mde > 0):
        return math.inf
    treated = min(baseline_rate * (1 + relative_mde), 1 - 1e-9)
    effect = treated - baseline_rate
    variance_per_visitor = baseline_rate * (1 - baseline_rate) / holdout_share + treated * (1 - treated) / (
        1 - holdout_share
    )
    visitors = (norm.isf(alpha / 2) + norm.isf(1 - power)) ** 2 * variance_per_visitor / effect**2
    return visitors / daily_visitors


@dataclass(frozen=True)
class Lift:
    days: int
    personalized: ProportionStats
    holdout: ProportionStats
    personalized_revenue: MeanStats
    holdout_revenue: MeanStats
    conversion: Comparison | None
    revenue: Comparison | None
    days_needed: float
    holdout_share: float

    @property
    def more_days(self) -> int | None:
        """Days still to wait before the lift is measurable (0: now); None when it never will be."""
        if math.isinf(self.days_needed):
            return None
        return max(0, math.ceil(self.days_needed - self.days))


def person_anchors() -> dict[int, str]:
    """User id -> the first cookie visitor id linked to it (the holdout's anchor)."""
    anchors: dict[int, str] = {}
    for user_id, key in (
        Visitor.objects.filter(user__isnull=False, kind=Visitor.Kind.COOKIE)
        .order_by("created_at", "pk")
        .values_list("user_id", "key")
    ):
        anchors.setdefault(user_id, key)
    return anchors


def holdout_lift(days: int = 28, now: datetime | None = None) -> Lift:
    """The comparison over the last ``days`` days of tracked visitors (imported history excluded)."""
    now = now or timezone.now()
    since = now - timedelta(days=days)
    anchors = person_anchors()
    converted: dict[str, bool] = {}
    revenue: dict[str, float] = defaultdict(float)
    rows = (
        Event.objects.filter(occurred_at__gte=since, occurred_at__lt=now)
        .exclude(Q(visitor_id__startswith="ext:"))
        .values_list("visitor_id", "user_id", "event_type", "unit_price", "quantity")
        .iterator(5000)
    )
    for visitor_id, user_id, event_type, unit_price, quantity in rows:
        person = anchors.get(user_id, f"user:{user_id}") if user_id is not None else visitor_id
        converted.setdefault(person, False)
        if event_type == EventType.PURCHASE:
            converted[person] = True
            revenue[person] += float((unit_price or Decimal(0)) * (quantity or 1))
    groups: dict[bool, list[str]] = {True: [], False: []}
    for person in converted:
        groups[is_held_out(person)].append(person)

    def proportion(people: list[str]) -> ProportionStats:
        return ProportionStats(len(people), sum(converted[p] for p in people))

    def means(people: list[str]) -> MeanStats:
        return MeanStats.from_values([revenue.get(p, 0.0) for p in people])

    personalized, holdout = proportion(groups[False]), proportion(groups[True])
    personalized_revenue, holdout_revenue = means(groups[False]), means(groups[True])
    enough = personalized.n >= 2 and holdout.n >= 2
    conversion = (
        two_proportion_z_test(holdout, personalized) if enough and personalized.successes + holdout.successes else None
    )
    revenue_comparison = welch_t_test(holdout_revenue, personalized_revenue) if enough else None
    share = float(app_settings.HOLDOUT_SHARE)
    baseline = (
        float(holdout.mean) if holdout.n and holdout.successes else float(personalized.mean) if personalized.n else 0.0
    )
    needed = days_to_detect(baseline, float(app_settings.EXPERIMENT_PLANNER_MDE), share, len(converted) / days)
    return Lift(
        days,
        personalized,
        holdout,
        personalized_revenue,
        holdout_revenue,
        conversion,
        revenue_comparison,
        needed,
        share,
    )
