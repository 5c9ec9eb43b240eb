"""The slot bandits' periodic re-weighting: P(arm is best) from each arm's posterior, floored at the
slot's minimum share, with arms whose promotion's budget is spent switched off."""

from __future__ import annotations

from typing import Any

import numpy as np
from django.utils import timezone

from ..bandits import Arm, NoActiveArmError, allocation
from ..offers.models import Promotion, SlotConfig
from ..offers.ranking import stats_from

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
