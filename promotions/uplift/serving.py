"""Uplift in serving: the randomized per-promotion holdout that trains uplift models, and each
visitor's predicted uplift for the ranking.

- Withholding: a promotion with ``uplift_holdout`` > 0 is kept out of the slots for that share of
  the visitors eligible to see it, by a stable hash of the person (the global holdout's anchor, so a
  visitor who signs in keeps their arm) and the promotion. It still applies at checkout: what is
  measured is the effect of showing it, which is what the ranking decides. Visitors who may not be
  tracked are never withheld, and nothing is logged about them.
- Logging: once per visitor, promotion and day, an eligible visitor gets an ``uplift_assignment``
  event (``{"withheld": bool, "slot": ...}``), shown and withheld alike, so both arms are defined the
  same way (intent to treat) for ``promotions.uplift.app_data``. Whether today's is logged is read
  with the page's other per-visitor entries; only the first page of the day adds a ``cache.add``.
- Prediction: ``predicted_uplifts`` scores the visitor with each promotion's latest model from
  their recent events (one capped query, kept in the cache for a few minutes).

Nothing here costs a query or a cache round trip unless a promotion has an uplift holdout or a
candidate ranks by uplift.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from django.core.cache import cache
from django.db.models import Max
from django.http import HttpRequest
from django.utils import timezone

from ..conf import app_settings
from ..experiments.stats.assignment import hash_point
from ..fallbacks import log_fallback
from ..offers.models import Promotion, PromotionUpliftModel
from ..offers.ranking import AFFINITY, SIGNALS
from ..offers.service import live_promotions
from ..tracking.capture import track
from ..tracking.models import Event
from ..tracking.personcache import UPLIFT_HISTORY, UPLIFT_LOGGED
from ..visitors.holdout import anchor_id
from ..visitors.keys import visitor_cache_key
from ..visitors.prefetch import remember_value, store_value, visitor_values
from .app_data import (
    BEHAVIOR_FIELDS,
    INTERNAL_EVENT_TYPES,
    UPLIFT_ASSIGNMENT,
    latest_history,
    to_behavior,
)
from .features import BehaviorEvent, BehaviorFeatures, behavior_features_at
from .linear import LinearUplift

logger = logging.getLogger("promotions.serving")

HISTORY_CACHE_NAME = UPLIFT_HISTORY.name
HISTORY_SECONDS = UPLIFT_HISTORY.lifetime
LOGGED_SECONDS = UPLIFT_LOGGED.lifetime
#: Uplift models are re-read from the database this often per process (they change once a day).
MODELS_SECONDS = 300.0


def is_withheld(anchor: str, promotion: Promotion) -> bool:
    """Whether the person with this anchor id is in the promotion's uplift holdout (pure; no database)."""
    share = float(promotion.uplift_holdout or 0)
    return share > 0 and hash_point(app_settings.HOLDOUT_SALT, f"uplift:{promotion.pk}", anchor) < share


def _anchor(request: HttpRequest) -> str | None:
    memo = request.__dict__
    if "_promotions_uplift_anchor" not in memo:
        state = getattr(request, "promotions", None)
        memo["_promotions_uplift_anchor"] = anchor_id(request) if state is not None and state.allowed else None
    return memo["_promotions_uplift_anchor"]


def _logged_name(promotion_id: int) -> str:
    return UPLIFT_LOGGED.name.format(day=timezone.localdate().isoformat(), promotion=promotion_id)


def randomized_names() -> list[str]:
    """Today's "assignment logged" entries of the live promotions with an uplift holdout, read with
    the page's other per-visitor entries (``prefetch.NAME_PROVIDERS``)."""
    return [_logged_name(p.pk) for p in live_promotions() if p.uplift_holdout and p.uplift_holdout > 0]




def _log_assignment(request: HttpRequest, promotion: Promotion, withheld: bool, slot: str) -> None:
    name = _logged_name(promotion.pk)
    if visitor_values(request, [name])[name]:
        return  # logged earlier today (or earlier on this page): no round trip
    try:
        # Atomic: of two pages rendered at once, one logs.
        first_today = cache.add(visitor_cache_key(request.promotions.visitor_id, name), 1, LOGGED_SECONDS)
    except Exception:  # the cache is down: log again (training keeps each visitor's first assignment)
        log_fallback("cache_unavailable", operation="add")
        first_today = True
    remember_value(request, name, 1)
    if first_today:
        track(request, UPLIFT_ASSIGNMENT, promotion_id=promotion.pk, context={"withheld": withheld, "slot": slot})


def withhold(request: HttpRequest, promotions: list[Promotion], slot: str | None) -> list[Promotion]:
    """The eligible promotions less those withheld from this visitor; logs the assignments in ``slot``."""
    randomized = [p for p in promotions if p.uplift_holdout and p.uplift_holdout > 0]
    if not randomized:
        return promotions
    anchor = _anchor(request)
    if anchor is None:
        return promotions
    withheld = set()
    for promotion in randomized:
        flag = is_withheld(anchor, promotion)
        if flag:
            withheld.add(promotion.pk)
        if slot:
            _log_assignment(request, promotion, flag, slot)
    return [p for p in promotions if p.pk not in withheld]


_models: tuple[float, dict[int, LinearUplift]] | None = None
_models_lock = threading.Lock()


def forget_uplift_models() -> None:
    global _models
    _models = None


def uplift_models() -> dict[int, LinearUplift]:
    """Promotion id -> its latest uplift model, read at most every ``MODELS_SECONDS`` per process."""
    global _models
    cached = _models
    if cached is not None and time.monotonic() - cached[0] < MODELS_SECONDS:
        return cached[1]
    with _models_lock:
        latest = PromotionUpliftModel.objects.values("promotion_id").annotate(latest=Max("pk")).values("latest")
        models = {}
        for promotion_id, parameters in PromotionUpliftModel.objects.filter(pk__in=latest).values_list(
            "promotion_id", "parameters"
        ):
            try:
                models[promotion_id] = LinearUplift.from_dict(parameters)
            except (KeyError, TypeError, ValueError):
                logger.exception("promotions: the uplift model of promotion %s is unreadable", promotion_id)
                log_fallback("uplift_model_unreadable", promotion=promotion_id)
        _models = (time.monotonic(), models)
    return models


def _pending(request: HttpRequest) -> list[tuple]:
    """This request's own events, not yet in the database, as behavior rows."""
    state = request.promotions
    return [
        (
            state.visitor_id,
            event["occurred_at"],
            event["event_type"],
            event.get("item_id", ""),
            event.get("unit_price"),
            event.get("quantity"),
            event.get("context") or {},
        )
        for event in state.events
        if event["event_type"] not in INTERNAL_EVENT_TYPES
    ]


def visitor_history(request: HttpRequest) -> list[BehaviorEvent]:
    """The visitor's recent events (at most ``UPLIFT_HISTORY_EVENTS`` from the database, cached a few minutes)
    and this request's own; empty for a visitor who may not be tracked."""
    state = getattr(request, "promotions", None)
    visitor_id = state.visitor_id if state is not None and state.allowed else None
    if not visitor_id:
        return []
    stored = visitor_values(request, [HISTORY_CACHE_NAME])[HISTORY_CACHE_NAME]
    if stored is None:
        rows = (
            Event.objects.filter(visitor_id=visitor_id)
            .exclude(event_type__in=INTERNAL_EVENT_TYPES)
            .order_by("-occurred_at")
            .values_list(*BEHAVIOR_FIELDS)[: app_settings.UPLIFT_HISTORY_EVENTS]
        )
        stored = [(e.occurred_at.timestamp(), e.event_type, e.category, e.device, e.revenue) for e in to_behavior(rows)]
        store_value(request, HISTORY_CACHE_NAME, stored, HISTORY_SECONDS)
    events = [
        BehaviorEvent(visitor_id, datetime.fromtimestamp(at, UTC), kind, category, device, revenue)
        for at, kind, category, device, revenue in stored
    ]
    return events + to_behavior(_pending(request))


def predicted_uplifts(request: HttpRequest, promotions: Iterable[Promotion]) -> dict[int, float]:
    """Promotion id -> this visitor's predicted uplift (incremental purchase probability if shown),
    for the promotions that have a model; a model whose features no longer match is left out."""
    models = uplift_models()
    wanted = [p.pk for p in promotions if p.pk in models]
    if not wanted:
        return {}
    visitor = getattr(getattr(request, "promotions", None), "visitor_id", None) or ""
    now = timezone.now()
    as_of = {visitor: now}
    history = latest_history(visitor_history(request), as_of)
    # Models trained together share their category columns: the features are built once per set.
    rows: dict[tuple[str, ...], BehaviorFeatures] = {}
    result = {}
    for pk in wanted:
        model = models[pk]
        categories = tuple(model.categories)
        if categories not in rows:
            rows[categories] = behavior_features_at(history, as_of, categories)
        features = rows[categories]
        if tuple(features.names) != model.names:
            log_fallback("uplift_features_changed", promotion=pk)
            continue
        result[pk] = float(model.predict_uplift(features.matrix)[0])
    return result


def ranking_signals(promotions: Sequence[Promotion], config: Mapping[str, Any]) -> dict[int, str]:
    """Promotion id -> what it is ranked by: an experiment variant's ``{"ranking": ...}`` overrides
    every promotion's own ``ranking_signal`` in the slot (an unknown value is ignored)."""
    override = config.get("ranking")
    if override in SIGNALS:
        return {p.pk: override for p in promotions}
    return {p.pk: p.ranking_signal if p.ranking_signal in SIGNALS else AFFINITY for p in promotions}


def uplifts_for_ranking(
    request: HttpRequest, promotions: Sequence[Promotion], config: Mapping[str, Any]
) -> tuple[dict[int, str], dict[int, float]]:
    """The signals of ``ranking_signals`` and the predicted uplifts of the promotions that need them
    (none, and no query, when every promotion ranks by affinity)."""
    signals = ranking_signals(promotions, config)
    wanted = [p for p in promotions if signals[p.pk] != AFFINITY]
    return signals, (predicted_uplifts(request, wanted) if wanted else {})
