"""Recommendations for a request: precomputed when fresh, else computed now, else trending.

1. Non-personalized requests (no consent, holdout) get the trending list: the active model's
   answer for an unknown visitor, the same for everyone.
2. A precomputed list (written after training) is used when it was computed by the active version
   and after the visitor's newest recent item.
3. Otherwise the active model (or the one an experiment variant names) scores the person with the
   current session's recent items, and the answer is cached for this visitor for a minute. With
   ``RECOMMENDATION_DIVERSITY`` above 0 it is re-ranked for category diversity (``diversify``).
4. Without a model, best sellers from the event log.
Unavailable and banned products are removed and pinned ones come first, in every case. Any
failure falls back to the next step with a log line; nothing raises into a page.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Iterable, Sequence
from datetime import timedelta

from django.core.cache import cache
from django.db.models import Count
from django.http import HttpRequest
from django.utils import timezone

from ..cards import cards
from ..diversify import diversify, diversity, pool_size
from ..fallbacks import log_fallback
from ..recommenders import Reason, Recommendation
from ..tracking.models import Event, EventType
from ..tracking.personcache import LIVE_RECOMMENDATIONS
from ..training.models import RECOMMENDATIONS_CACHE_NAME
from ..visitors.keys import user_cache_key, user_person_id
from ..visitors.prefetch import store_value, visitor_values
from ..visitors.recent import recent_items
from .merchandising import apply_slot_rules, rules_stamp
from .models_cache import model_for_serving
from .picks import MODEL, TRENDING, Pick

logger = logging.getLogger("promotions.serving")

LIVE_CACHE_NAME = LIVE_RECOMMENDATIONS.name
LIVE_CACHE_SECONDS = LIVE_RECOMMENDATIONS.lifetime
TRENDING_SECONDS = 300.0
#: Items asked of the model beyond ``k``, so that filtering (stock, bans) still leaves ``k``.
HEADROOM = 20


#: (item id, score, why); cached as (item id, score, ``Reason.as_list()``)
Row = tuple[str, float, Reason | None]
#: The reason of the best sellers read from the event log (no model).
BEST_SELLER = Reason("best_seller")


def person_key(request: HttpRequest) -> str | None:
    """The id the models know this person by (``u:<user id>`` or the visitor id)."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return user_person_id(user.pk)
    state = getattr(request, "promotions", None)
    return state.visitor_id if state is not None else None


_trending: dict[str, tuple[float, list[Row]]] = {}
#: Per process: the non-personalized picks of (k, slot, model), kept while the slot rules they went
#: through are (the trending rows under them are kept longer).
_typical: dict[tuple, tuple[float, list[Pick]]] = {}


#: Per process: similar items of (model version, item, k); the same for every visitor.
_similar: dict[tuple, list[Row]] = {}
SIMILAR_ENTRIES = 20_000


def forget_trending() -> None:
    _trending.clear()
    _typical.clear()
    _similar.clear()


def _trending_rows(model_name: str | None) -> list[Row]:
    key = model_name or ""
    entry = _trending.get(key)
    if entry is not None and time.monotonic() - entry[0] < TRENDING_SECONDS:
        return entry[1]
    version, model = model_for_serving(model_name)
    rows = _rows(model.recommend(history=[], k=200)) if model is not None else []
    if not rows:  # no model, or one that cannot rank without a history (item-kNN)
        rows = _best_sellers()
    _trending[key] = (time.monotonic(), rows)
    return rows


def _best_sellers(days: int = 30, k: int = 200) -> list[Row]:
    since = timezone.now() - timedelta(days=days)
    counts = (
        Event.objects.filter(event_type=EventType.PURCHASE, occurred_at__gte=since)
        .exclude(item_id="")
        .values("item_id")
        .annotate(n=Count("id"))
        .order_by("-n", "item_id")[:k]
    )
    return [(row["item_id"], float(row["n"]), BEST_SELLER) for row in counts]


def _safe(operation, *args, default=None):
    """A cache operation that cannot fail the page: with the cache down, lists are computed now."""
    try:
        return operation(*args)
    except Exception:
        log_fallback("cache_unavailable", operation=operation.__name__)
        return default


def _rows(recommendations: Iterable[Recommendation]) -> list[Row]:
    return [(r.item_id, r.score, r.reason) for r in recommendations]


def _stored(rows: list[Row]) -> list[tuple]:
    """Rows as the visitor's cache keeps them (plain lists, whatever the cache serializes with)."""
    return [(item_id, score, reason.as_list() if reason is not None else None) for item_id, score, reason in rows]


def _loaded(rows: list) -> list[Row] | None:
    """Rows ``_stored`` wrote; None for an entry of an older format (a reason as text)."""
    loaded = []
    for item_id, score, reason in rows:
        structured = Reason.from_list(reason)
        if structured is None and reason is not None:
            return None
        loaded.append((item_id, score, structured))
    return loaded


def _history_key(items: Sequence[str]) -> str:
    return hashlib.sha256("\x1f".join(items).encode()).hexdigest()[:16]


def _personal_rows(request: HttpRequest, k: int, model_name: str | None, fresh: bool = True) -> tuple[list[Row], str]:
    """The visitor's rows and where they come from ("model", or "trending" when no model could
    score them). ``fresh=False`` accepts the visitor's list as last computed by the same model,
    for an older session (at most ``LIVE_CACHE_SECONDS`` old), rather than scoring again."""
    state = getattr(request, "promotions", None)
    visitor_id = state.visitor_id if state is not None else None
    version, model = model_for_serving(model_name)
    if model is None or visitor_id is None:
        return _trending_rows(model_name), TRENDING
    history, newest = recent_items(request)
    user = getattr(request, "user", None)
    found = visitor_values(request, [LIVE_CACHE_NAME, RECOMMENDATIONS_CACHE_NAME])
    candidates = []
    if model_name is None:  # precomputed lists are the active model's
        if user is not None and user.is_authenticated:
            candidates.append(_safe(cache.get, user_cache_key(user.pk, RECOMMENDATIONS_CACHE_NAME)))
        candidates.append(found[RECOMMENDATIONS_CACHE_NAME])
    for value in candidates:
        recent_enough = not fresh or value and value.get("at", 0) >= newest
        if value and value.get("version") == version and recent_enough and len(value["items"]) >= k:
            rows = _loaded([(row["item_id"], row["score"], row.get("reason")) for row in value["items"]])
            if rows is not None:
                return rows, MODEL
    basis, session = f"{version}:{model_name or ''}:{diversity()}", _history_key(history)
    cached = found[LIVE_CACHE_NAME]
    # A longer list computed for the same session serves a shorter ask (the model's order is its prefix).
    if cached is not None and cached.get("basis") == basis and cached.get("k", 0) >= k:
        rows = _loaded(cached["rows"]) if cached.get("session") == session or not fresh else None
        if rows is not None:
            return rows[:k] if cached.get("source") == MODEL else rows, cached["source"]
    rows = diversify(_rows(model.recommend(person_key(request), history, k=pool_size(k))), k)
    source = MODEL
    if not rows:
        rows, source = _trending_rows(model_name), TRENDING
    value = {"basis": basis, "session": session, "k": k, "rows": _stored(rows), "source": source}
    store_value(request, LIVE_CACHE_NAME, value, LIVE_CACHE_SECONDS)
    return rows, source


def recommendations_for(
    request: HttpRequest,
    k: int = 8,
    *,
    personalized: bool = True,
    slot: str = "*",
    model_name: str | None = None,
    exclude: Iterable[str] = (),
    fresh: bool = True,
) -> list[Pick]:
    """Up to ``k`` products for this request's visitor, best first; never raises. ``fresh=False``
    accepts the visitor's list as last computed for their session a little earlier (see
    ``_personal_rows``): for callers that fold the newest items in themselves."""
    excluded = set(exclude)
    if not personalized and not excluded:
        return _typical_picks(k, slot, model_name)
    return _picks(request if personalized else None, k, slot, model_name, excluded, fresh)


def _picks(
    request: HttpRequest | None, k: int, slot: str, model_name: str | None, excluded: set[str], fresh: bool = True
) -> list[Pick]:
    """The visitor's picks, or with no request the list every visitor gets."""
    try:
        if request is not None:
            rows, source = _personal_rows(request, k + len(excluded) + HEADROOM, model_name, fresh)
        else:
            rows, source = _trending_rows(model_name), TRENDING
    except Exception:
        logger.exception("promotions: recommendations failed")
        log_fallback("recommendations_failed", slot=slot)
        try:
            rows, source = _best_sellers(), "best_sellers"
        except Exception:
            log_fallback("best_sellers_failed", slot=slot)
            return []
    return _to_picks(rows, k, excluded, slot, source)


def _typical_picks(k: int, slot: str, model_name: str | None) -> list[Pick]:
    """The list every visitor gets, kept per process as long as the slot rules it went through."""
    key = (k, slot, model_name)
    stamp = rules_stamp()
    entry = _typical.get(key)
    if entry is not None and entry[0] == stamp:
        return entry[1]
    picks = _picks(None, k, slot, model_name, set())
    _typical[key] = (stamp, picks)
    return picks


def similar_to(request: HttpRequest, item_id: str, k: int = 6, *, slot: str = "product") -> list[Pick]:
    """Products like ``item_id`` (the same for every visitor); never raises."""
    try:
        version, model = model_for_serving(None)
        key = (version, item_id, k)
        rows = _similar.get(key)
        if rows is None:
            rows = [] if model is None else _rows(model.similar_items(item_id, k + HEADROOM))
            if len(_similar) >= SIMILAR_ENTRIES:
                _similar.clear()
            _similar[key] = rows
    except Exception:
        logger.exception("promotions: similar items failed")
        log_fallback("similar_items_failed", item=item_id)
        rows = []
    return _to_picks(rows, k, {item_id}, slot, "similar")


def _to_picks(rows: list[Row], k: int, excluded: set[str], slot: str, source: str) -> list[Pick]:
    found = cards(row[0] for row in rows if row[0] not in excluded)
    picks = [
        Pick(found[item_id], score, reason, source)
        for item_id, score, reason in rows
        if item_id in found and item_id not in excluded and found[item_id].available
    ]
    return apply_slot_rules(picks, slot, k)
