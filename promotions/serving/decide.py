"""Who decides what a visitor sees in a slot: one rule, in this order.

1. No consent, DNT/GPC, or a bot: non-personalized promotions, no enrollment, nothing recorded.
2. The global holdout: non-personalized promotions, outside every experiment (a rolled-out
   winner never reaches it).
3. A running experiment on the slot (``SlotConfig.experiment``): its variant's config decides
   (``personalized``, ``model``, ``template``, ``strategy``, ``ranking``: the signal every
   promotion of the slot is ranked by, "affinity", "uplift" or "blend").
4. A bandit on the slot (``SlotConfig.bandit``): it picks the first promotion among its arms
   (a contextual slot with the shares of the visitor's segment).
5. Otherwise the default personalized ranking.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from django.http import HttpRequest

from ..experiments.service import variant_for
from ..offers.models import SlotConfig
from ..visitors.holdout import in_holdout

NOT_TRACKED = "not_tracked"
HOLDOUT = "holdout"
EXPERIMENT = "experiment"
BANDIT = "bandit"
DEFAULT = "default"

CONFIG_SECONDS = 10.0
_configs: tuple[float, dict[str, SlotConfig]] | None = None


def forget_slot_configs(*args: Any, **kwargs: Any) -> None:
    global _configs
    _configs = None


def slot_config(slot: str) -> SlotConfig | None:
    global _configs
    if _configs is None or time.monotonic() - _configs[0] > CONFIG_SECONDS:
        _configs = (time.monotonic(), {c.slot: c for c in SlotConfig.objects.select_related("experiment")})
    return _configs[1].get(slot)


@dataclass(frozen=True)
class Decision:
    step: str
    personalized: bool
    config: dict[str, Any] = field(default_factory=dict)
    slot_config: SlotConfig | None = None
    variant: Any = None

    @property
    def model_name(self) -> str | None:
        return self.config.get("model") or None

    @property
    def template(self) -> str | None:
        return self.config.get("template") or None


def decide(request: HttpRequest, slot: str) -> Decision:
    """The decision for this request and slot, once per request."""
    memo = request.__dict__.setdefault("_promotions_decisions", {})
    if slot not in memo:
        memo[slot] = _decide(request, slot)
    return memo[slot]


def _decide(request: HttpRequest, slot: str) -> Decision:
    state = getattr(request, "promotions", None)
    if state is None or not state.allowed:
        return Decision(NOT_TRACKED, personalized=False)
    if in_holdout(request):
        return Decision(HOLDOUT, personalized=False)
    config = slot_config(slot)
    if config is not None and config.experiment_id and config.experiment.status == config.experiment.Status.RUNNING:
        variant = variant_for(request, config.experiment.key)
        if variant is not None:
            settings = variant.config if isinstance(variant.config, dict) else {}
            personalized = settings.get("personalized", True) is not False
            return Decision(EXPERIMENT, personalized, settings, config, variant)
    if config is not None and config.bandit:
        return Decision(BANDIT, personalized=True, slot_config=config)
    return Decision(DEFAULT, personalized=True, slot_config=config)
