"""The slot bandits' periodic re-weighting: P(arm is best) from each arm's posterior, floored at the
slot's minimum share, with arms whose promotion's budget is spent switched off."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import numpy as np
from django.utils import timezone

from ..bandits import Arm, ArmEstimate, NoActiveArmError, allocation, ipw_estimates
from ..offers.figures import credits_between
from ..offers.models import Promotion, SlotConfig
from ..offers.ranking import stats_from
from ..tracking.models import Event

DRAWS = 20_000


def slot_arms(config: SlotConfig, stats: dict[str, Any]) -> list[Arm]:
    """One arm per live promotion that may appear in the slot."""
    promotions = [p for p in Promotion.objects.live() if not p.slots or config.slot in p.slots]
    return [
        Arm(str(p.pk), stats_from(stats.get(str(p.pk), {}).get("overall")), active=not p.budget_exhausted)
        for p in promotions
    ]


def reweight(config: SlotConfig, stats: dict[str, Any], rng: np.random.Generator) -> dict[str, float]:
    """Store and return the slot's new traffic shares (empty when no arm may get traffic)."""
    arms = slot_arms(config, stats)
    try:
        shares = allocation(
            arms,
            DRAWS,
            rng,
            min_share=float(config.min_share),
            burn_in=config.burn_in,
            metric="revenue" if config.bandit_metric == SlotConfig.Metric.REVENUE else "conversion",
        )
    except NoActiveArmError:
        shares = {}
    config.weights = shares
    config.weights_updated_at = timezone.now()
    config.save(update_fields=["weights", "weights_updated_at"])
    return shares


@dataclass(frozen=True)
class ArmResult:
    promotion: Promotion
    share: float
    estimate: ArmEstimate | None


def bandit_results(config: SlotConfig, days: int = 30) -> list[ArmResult]:
    """Per arm: the visitors the bandit gave it (first pick per visitor), their plain conversion
    rate (biased under a bandit) and the inverse-propensity-weighted one, with 95% intervals.

    A visitor converts when a purchase within the attribution windows is credited to that arm's
    promotion.
    """
    now = timezone.now()
    since = now - timedelta(days=days)
    first: dict[str, tuple[int, float]] = {}
    for visitor, promotion_id, context in (
        Event.objects.filter(event_type="bandit_pick", occurred_at__gte=since, context__slot=config.slot)
        .order_by("occurred_at")
        .values_list("visitor_id", "promotion_id", "context")
        .iterator(2000)
    ):
        if visitor not in first and promotion_id is not None:
            first[visitor] = (promotion_id, float(context.get("propensity", 0) or 0))
    credited = {
        (credit.purchase.visitor, credit.promotion_id)
        for credit in credits_between(since, now)
        if credit.promotion_id is not None
    }
    rows = [(str(pid), 1.0 if (visitor, pid) in credited else 0.0, p) for visitor, (pid, p) in first.items() if p > 0]
    estimates = ipw_estimates(*zip(*rows, strict=True)) if len(rows) >= 2 else {}
    promotions = Promotion.objects.filter(
        pk__in={int(key) for key in config.weights} | {pid for pid, _ in first.values()}
    )
    return [
        ArmResult(p, float(config.weights.get(str(p.pk), 0.0)), estimates.get(str(p.pk)))
        for p in promotions.order_by("pk")
    ]
