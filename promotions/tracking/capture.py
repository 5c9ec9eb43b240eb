"""Capturing events during a request: who may be tracked, and the public ``track`` helper."""

from __future__ import annotations

import logging
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from typing import Any

from django.http import HttpRequest
from django.utils import timezone

from ..conf import app_settings
from ..products import get_adapter
from ..visitors import prefetch, recent
from . import buffer
from .limits import normalize_event
from .models import EventType

logger = logging.getLogger(__name__)

#: Types a shop may send besides ``EventType`` (the app's own) must be registered first, from the
#: shop's ``AppConfig.ready()`` (``register_event_type("wishlist")``), so a typo is an error rather
#: than a new metric.
CUSTOM_EVENT_TYPES: set[str] = set()
BUILT_IN_EVENT_TYPES = frozenset(EventType.values)


def register_event_type(name: str) -> None:
    """Accept ``name`` as an event type in every process; call it from ``AppConfig.ready()``."""
    if not re.fullmatch(r"[a-z][a-z0-9_]{0,31}", name):
        raise ValueError(f"Event type names are lower-case identifiers of up to 32 characters, not {name!r}.")
    CUSTOM_EVENT_TYPES.add(name)


def is_known_event_type(name: str) -> bool:
    return name in BUILT_IN_EVENT_TYPES or name in CUSTOM_EVENT_TYPES


@dataclass
class TrackingState:
    """What the middleware decided for this request, and the events captured so far."""

    allowed: bool
    visitor_id: str | None
    events: list[dict[str, Any]] = field(default_factory=list)
    #: Cache entries serving computed for this visitor during the page ({key: (value, seconds)}),
    #: written with the events once the body went out; None (no middleware) writes them at once.
    cache_writes: dict[str, tuple[Any, int | None]] | None = None
    #: Counters to add to then as well ({key: (increment, seconds)}); None adds them at once.
    cache_counts: dict[str, tuple[int, int]] | None = None
    #: When the visitor id was issued (epoch seconds; now for a new visitor), None when unknown.
    issued_at: float | None = None


@lru_cache(maxsize=4)
def _bot_pattern(pattern: str) -> re.Pattern:
    return re.compile(pattern, re.IGNORECASE)


def is_bot(request: HttpRequest) -> bool:
    agent = request.headers.get("User-Agent", "")
    return not agent or bool(_bot_pattern(app_settings.BOT_USER_AGENT_PATTERN).search(agent))


def opted_out(request: HttpRequest) -> bool:
    """True when the browser asks not to be tracked (DNT or Global Privacy Control)."""
    if not app_settings.HONOR_DO_NOT_TRACK:
        return False
    return request.headers.get("DNT") == "1" or request.headers.get("Sec-GPC") == "1"


def has_consent(request: HttpRequest) -> bool:
    check = app_settings.imported("CONSENT_CHECK")
    return True if check is None else bool(check(request))


def tracking_allowed(request: HttpRequest) -> bool:
    """Whether this visitor may get a tracking cookie, events and history-based personalization."""
    return not opted_out(request) and not is_bot(request) and has_consent(request)


def _user_id(request: HttpRequest) -> int | None:
    user = getattr(request, "user", None)
    return user.pk if user is not None and user.is_authenticated else None


def time_ordered_key() -> str:
    """A unique key that sorts by creation time, so the unique index grows at its right edge
    (random keys would touch a random index page per insert)."""
    return f"{time.time_ns():016x}{secrets.token_hex(8)}"


def make_event(request: HttpRequest, event_type: str, **fields: Any) -> dict[str, Any]:
    """An event of this request's visitor, as stored in the buffer: every field within the
    limits of ``limits.normalize_event``, the one place the middleware, ``track()`` and the
    beacon bound what a visitor sends."""
    state: TrackingState = request.promotions
    return normalize_event(
        {
            "event_type": event_type,
            "visitor_id": state.visitor_id,
            "user_id": _user_id(request),
            "occurred_at": timezone.now(),
            "idempotency_key": time_ordered_key(),
            **{key: value for key, value in fields.items() if value is not None},
        }
    )


def track(
    request: HttpRequest,
    event_type: str,
    *,
    product: Any = None,
    quantity: int | None = None,
    value: Decimal | None = None,
    **fields: Any,
) -> bool:
    """Record an event for the visitor of ``request``; returns False when it may not be tracked.

    ``product`` is a product instance (or its public id), ``value`` the line's total (the unit
    price stored is ``value / quantity``). Other keyword arguments are Event fields (rating,
    review_text, query, result_count, dwell_seconds, promotion_id, context). Events are written
    when the response is done, by the middleware, in one batch.
    """
    if not is_known_event_type(event_type):
        raise ValueError(f"Unknown event type {event_type!r}; register custom types with register_event_type().")
    state: TrackingState | None = getattr(request, "promotions", None)
    if state is None or not state.allowed:
        return False
    if product is not None:
        fields["item_id"] = product if isinstance(product, str) else get_adapter().get_id(product)
    if quantity is not None:
        fields["quantity"] = int(quantity)
        if value is not None:
            fields["unit_price"] = (Decimal(value) / max(int(quantity), 1)).quantize(Decimal("0.0001"))
    state.events.append(make_event(request, event_type, **fields))
    return True


def tracks_product_view(kwarg: str) -> Callable:
    """Mark a view as a product page whose product id is the URL keyword argument ``kwarg``."""

    def decorate(view: Callable) -> Callable:
        view.promotions_product_kwarg = kwarg
        return view

    return decorate


def set_search_results(request: HttpRequest, count: int) -> None:
    """Let the search event record how many results the shop's search found."""
    request.promotions_search_results = int(count)


def write_pending(request: HttpRequest) -> None:
    """Store the request's events, fold them into the visitor's recent items and write the cache
    entries serving kept for the visitor: after the response body went out."""
    state: TrackingState | None = getattr(request, "promotions", None)
    if state is None:
        return
    if state.events:
        buffer.write(state.events)
        if state.visitor_id:
            try:
                recent.remember_request(request)
            except Exception:  # the events are stored; only the real-time list misses them
                logger.exception("promotions: could not update the recent items of a visitor")
        state.events = []
    if state.cache_writes or state.cache_counts:
        prefetch.flush_writes(state)
