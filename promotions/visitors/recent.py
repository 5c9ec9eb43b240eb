"""The items a visitor touched lately, kept in the shared cache so recommendations react at once.

Updated when a request's events are written (after the response), read by serving; no database
read on either side. The list is per visitor, newest last, at most ``RECENT_LENGTH`` items, each
with the time it was touched, so serving can tell whether a precomputed list predates them.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from django.core.cache import cache
from django.http import HttpRequest

from ..tracking.models import EventType
from ..tracking.personcache import RECENT_ITEMS
from .keys import visitor_cache_key
from .prefetch import store_value, visitor_values

RECENT_CACHE_NAME = RECENT_ITEMS.name
RECENT_LENGTH = 20
RECENT_SECONDS = RECENT_ITEMS.lifetime
#: Event types that say the visitor is interested in the item.
INTEREST_EVENTS = frozenset(
    {
        EventType.VIEW,
        EventType.ADD_TO_CART,
        EventType.PURCHASE,
        EventType.RATING,
        EventType.REVIEW,
        EventType.RECOMMENDATION_CLICK,
    }
)


def _merge(current: list[list[Any]], added: Iterable[tuple[str, float]]) -> list[list[Any]]:
    merged = [entry for entry in current]
    for item_id, at in added:
        merged = [entry for entry in merged if entry[0] != item_id]
        merged.append([item_id, at])
    return merged[-RECENT_LENGTH:]


def _added(events: Iterable[dict[str, Any]]) -> list[tuple[str, float]]:
    return [
        (event["item_id"], event["occurred_at"].timestamp())
        for event in events
        if event.get("item_id") and event.get("event_type") in INTEREST_EVENTS
    ]


def remember(visitor_id: str, events: Iterable[dict[str, Any]]) -> None:
    """Fold the item events of one request into the visitor's recent list."""
    added = _added(events)
    if added:
        key = visitor_cache_key(visitor_id, RECENT_CACHE_NAME)
        cache.set(key, _merge(cache.get(key) or [], added), RECENT_SECONDS)


def remember_request(request: HttpRequest) -> None:
    """``remember`` for the request's own pending events, reusing the list its tags already read
    (no second read) and joining the page's other cache writes (``store_value``)."""
    state = request.promotions
    added = _added(state.events)
    if not added:
        return
    read = request.__dict__.get("_promotions_cached", {})
    if RECENT_CACHE_NAME in read:
        current = read[RECENT_CACHE_NAME] or []
    else:
        current = cache.get(visitor_cache_key(state.visitor_id, RECENT_CACHE_NAME)) or []
    store_value(request, RECENT_CACHE_NAME, _merge(current, added), RECENT_SECONDS)


def recent_items(request: HttpRequest) -> tuple[list[str], float]:
    """The visitor's recent item ids (oldest first), this request's own events included, and the
    time of the newest (0 when none)."""
    state = getattr(request, "promotions", None)
    if state is None or not state.allowed or not state.visitor_id:
        return [], 0.0
    # Every tag of a page asks: worked out once per request, again only if events were added.
    memo = request.__dict__.get("_promotions_recent")
    if memo is not None and memo[0] == len(state.events):
        return memo[1]
    stored = visitor_values(request, [RECENT_CACHE_NAME])[RECENT_CACHE_NAME] or []
    pending = [
        (event["item_id"], time.time())
        for event in state.events
        if event.get("item_id") and event.get("event_type") in INTEREST_EVENTS
    ]
    entries = _merge(stored, pending)
    result = [entry[0] for entry in entries], max((entry[1] for entry in entries), default=0.0)
    request.__dict__["_promotions_recent"] = (len(state.events), result)
    return result
