"""The visitor's cache entries for a page, read in one round trip.

Every tag on a page needs a few per-visitor entries (recent items, new or returning, cached
lists); the first one to ask fetches all of them with ``get_many`` and later asks are answered from
the request. With the cache down every entry reads as missing and serving computes what it needs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.core.cache import cache
from django.http import HttpRequest

from ..fallbacks import log_fallback
from . import cachewrites
from .keys import visitor_cache_key

#: Names fetched with every first request for any of them (declared by the modules using them).
STANDARD_NAMES: list[str] = []
#: Callables giving more such names that change over time (today's exposure counts of the live
#: capped promotions, say); called on each first request of a page.
NAME_PROVIDERS: list[Callable[[], Iterable[str]]] = []


def _provided_names() -> list[str]:
    names = []
    for provider in NAME_PROVIDERS:
        try:
            names.extend(provider())
        except Exception:  # a provider that fails only costs its entries a later round trip
            log_fallback("prefetch_names_failed", provider=getattr(provider, "__name__", "?"))
    return names


def visitor_values(request: HttpRequest, names: Iterable[str]) -> dict[str, Any]:
    """``{name: value or None}`` of this request's visitor's entries."""
    names = list(names)
    state = getattr(request, "promotions", None)
    visitor_id = state.visitor_id if state is not None and state.allowed else None
    if not visitor_id:
        return dict.fromkeys(names)
    memo = request.__dict__.setdefault("_promotions_cached", {})
    wanted = [*names, *STANDARD_NAMES] if memo else [*names, *STANDARD_NAMES, *_provided_names()]
    missing = [name for name in dict.fromkeys(wanted) if name not in memo]
    if missing:
        keys = {visitor_cache_key(visitor_id, name): name for name in missing}
        try:
            found = cache.get_many(list(keys))
        except Exception:
            log_fallback("cache_unavailable", operation="get_many")
            found = {}
        for key, name in keys.items():
            memo[name] = found.get(key)
    return {name: memo[name] for name in names}


def remember_value(request: HttpRequest, name: str, value: Any) -> None:
    """What this request wrote, so later tags of the page read it without asking the cache."""
    request.__dict__.setdefault("_promotions_cached", {})[name] = value


def store_value(request: HttpRequest, name: str, value: Any, seconds: int | None) -> None:
    """Keep ``value`` for the page's later tags and for the visitor's next pages. Under the tracking
    middleware the write waits until the body went out, with the page's other writes
    (``flush_writes``); without it (a bare request) it is written now."""
    remember_value(request, name, value)
    state = getattr(request, "promotions", None)
    if state is None or not state.allowed or not state.visitor_id:
        return
    key = visitor_cache_key(state.visitor_id, name)
    if state.cache_writes is not None:
        state.cache_writes[key] = (value, seconds)
        return
    try:
        cache.set(key, value, seconds)
    except Exception:
        log_fallback("cache_unavailable", operation="set")


def flush_writes(state: Any) -> None:
    """Write a request's deferred entries and counts (see ``store_value``): one pipelined round trip
    on django-redis. A cache failure loses only them."""
    entries, counts = state.cache_writes or {}, state.cache_counts or {}
    state.cache_writes = {} if state.cache_writes is not None else None
    state.cache_counts = {} if state.cache_counts is not None else None
    try:
        cachewrites.write(entries, counts)
    except Exception:
        log_fallback("cache_unavailable", operation="write")
