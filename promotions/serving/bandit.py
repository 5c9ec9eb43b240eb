"""The slot bandits' periodic re-weighting: P(arm is best) from each arm's posterior, floored at the
slot's minimum share, with arms whose promotion's budget is spent switched off.

A contextual slot (``SlotConfig.contextual``) also gets shares per visitor segment (the ranking's
key: new/returning x device class x top category, whose figures the promotion statistics keep):
each arm's posterior in the segment has, as prior, the arm's overall posterior worth
``SEGMENT_PRIOR_STRENGTH`` visitors (``bandits.for_segment``, the ranking's Thompson sampling),
so a thin segment follows the overall shares until its own data differ. The burn-in is judged on
the arms' overall visitors; until it is over, no segment shares are kept and everyone gets the
overall (equal) shares, as does a segment seen for the first time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from django.utils import timezone

from ..bandits import Arm, ArmEstimate, ArmStats, NoActiveArmError, allocation, for_segment, ipw_estimates
from ..offers.figures import credits_between
from ..offers.models import Promotion, SlotConfig
from ..offers.ranking import stats_from
from ..tracking.models import Event, EventType

DRAWS = 20_000
#: Pseudo-visitors of the overall posterior in each segment's prior (as in the promotion ranking).
SEGMENT_PRIOR_STRENGTH = 100.0


def slot_arms(config: SlotConfig, stats: dict[str, Any]) -> list[Arm]:
    """One arm per live promotion that may appear in the slot."""
    promotions = [p for p in Promotion.objects.live() if not p.slots or config.slot in p.slots]
    return [
        Arm(str(p.pk), stats_from(stats.get(str(p.pk), {}).get("overall")), active=not p.budget_exhausted)
        for p in promotions
    ]


def segment_shares(
    arms: list[Arm],
    segments: Mapping[str, Mapping[str, ArmStats]],
    rng: np.random.Generator,
    *,
    min_share: float,
    burn_in: int,
    metric: str,
    draws: int = DRAWS,
) -> dict[str, dict[str, float]]:
    """Segment key -> arm key -> share, each segment's arms borrowing from their overall figures.

    Empty while any active arm is in its burn-in (by its overall visitors).
    """
    if any(arm.active and arm.stats.visitors < burn_in for arm in arms):
        return {}
    return {
        segment: allocation(
            for_segment(arms, stats, SEGMENT_PRIOR_STRENGTH), draws, rng, min_share=min_share, metric=metric
        )
        for segment, stats in sorted(segments.items())
    }


def _segments(stats: dict[str, Any], arms: list[Arm]) -> dict[str, dict[str, ArmStats]]:
    """Segment -> arm key -> statistics, from the promotion statistics' per-segment rows."""
    segments: dict[str, dict[str, ArmStats]] = {}
    for arm in arms:
        for segment, row in (stats.get(arm.key, {}).get("segments") or {}).items():
            segments.setdefault(segment, {})[arm.key] = stats_from(row)
    return segments


def reweight(config: SlotConfig, stats: dict[str, Any], rng: np.random.Generator) -> dict[str, float]:
    """Store and return the slot's new traffic shares (empty when no arm may get traffic); a
    contextual slot also stores its shares per segment."""
    arms = slot_arms(config, stats)
    metric = "revenue" if config.bandit_metric == SlotConfig.Metric.REVENUE else "conversion"
    by_segment: dict[str, dict[str, float]] = {}
    try:
        shares = allocation(arms, DRAWS, rng, min_share=float(config.min_share), burn_in=config.burn_in, metric=metric)
        if config.contextual:
            by_segment = segment_shares(
                arms,
                _segments(stats, arms),
                rng,
                min_share=float(config.min_share),
                burn_in=config.burn_in,
                metric=metric,
            )
    except NoActiveArmError:
        shares = {}
    config.weights = shares
    config.segment_weights = by_segment
    config.weights_updated_at = timezone.now()
    config.save(update_fields=["weights", "segment_weights", "weights_updated_at"])
    return shares


def shares_for(config: SlotConfig, segment: str) -> dict[str, float]:
    """The shares a visitor of ``segment`` is served by: the segment's on a contextual slot that has
    them, else the slot's overall shares."""
    if config.contextual:
        found = (config.segment_weights or {}).get(segment)
        if found:
            return found
    return config.weights or {}


@dataclass(frozen=True)
class ArmResult:
    promotion: Promotion
    share: float
    estimate: ArmEstimate | None


@dataclass(frozen=True)
class LoggedPick:
    """A visitor's first bandit pick in a slot: the arm, the probability it had, and when."""

    visitor: str
    promotion_id: int
    propensity: float
    at: datetime
    converted: bool


def logged_picks(slot: str, since: datetime, until: datetime) -> list[LoggedPick]:
    """Each visitor's first pick in ``slot`` in [since, until), and whether they converted: a purchase
    in that period credited (attribution windows) to the promotion they got."""
    first: dict[str, tuple[int, float, datetime]] = {}
    for visitor, promotion_id, context, at in (
        Event.objects.filter(
            event_type=EventType.BANDIT_PICK, occurred_at__gte=since, occurred_at__lt=until, context__slot=slot
        )
        .order_by("occurred_at")
        .values_list("visitor_id", "promotion_id", "context", "occurred_at")
        .iterator(2000)
    ):
        if visitor not in first and promotion_id is not None:
            propensity = context.get("propensity", 0) if isinstance(context, dict) else 0
            first[visitor] = (promotion_id, float(propensity or 0), at)
    credited = {
        (credit.purchase.visitor, credit.promotion_id)
        for credit in credits_between(since, until)
        if credit.promotion_id is not None
    }
    return [
        LoggedPick(visitor, pid, propensity, at, (visitor, pid) in credited)
        for visitor, (pid, propensity, at) in first.items()
    ]


def bandit_results(config: SlotConfig, days: int = 30) -> list[ArmResult]:
    """Per arm: the visitors the bandit gave it (first pick per visitor), their plain conversion
    rate (biased under a bandit) and the inverse-propensity-weighted one, with 95% intervals.

    A visitor converts when a purchase within the attribution windows is credited to that arm's
    promotion.
    """
    now = timezone.now()
    picks = logged_picks(config.slot, now - timedelta(days=days), now)
    rows = [(str(p.promotion_id), float(p.converted), p.propensity) for p in picks if p.propensity > 0]
    estimates = ipw_estimates(*zip(*rows, strict=True)) if len(rows) >= 2 else {}
    promotions = Promotion.objects.filter(pk__in={int(key) for key in config.weights} | {p.promotion_id for p in picks})
    return [
        ArmResult(p, float(config.weights.get(str(p.pk), 0.0)), estimates.get(str(p.pk)))
        for p in promotions.order_by("pk")
    ]
