"""What was shown, counted the moment it is rendered.

A template tag that renders a promotion or a recommendation calls ``record_exposure``: the
count goes to Django's cache at once (Redis in production, so every process sees it), without
waiting for the event buffer. Frequency caps and experiment exposure read these counts; the
beacon's viewport impressions, which say what was really seen, go to the event log.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from django.core.cache import cache
from django.http import HttpRequest
from django.utils import timezone

from .privacy import register_person_cache_key, visitor_cache_key

# Counts are per day; two days keep yesterday's readable around midnight.
EXPOSURE_TTL_SECONDS = 2 * 24 * 3600


def _name(kind: str, key: str | int, day: date) -> str:
    return f"exposures:{day.isoformat()}:{kind}:{key}"


def record_exposure(request: HttpRequest, kind: str, key: str | int) -> int:
    """Count one exposure of ``kind`` ("promotion", "recommendation"...) ``key`` to this visitor
    today; returns today's count. Visitors who may not be tracked are not counted (0)."""
    state = getattr(request, "promotions", None)
    if state is None or not state.allowed:
        return 0
    return _increment(_cache_key(state.visitor_id, kind, key))


def record_exposures(request: HttpRequest, kind: str, keys: Iterable[str | int]) -> None:
    """``record_exposure`` of several keys: one pipelined round trip on django-redis (a page
    shows several capped promotions), one increment per key on other backends."""
    state = getattr(request, "promotions", None)
    if state is None or not state.allowed:
        return
    cache_keys = [_cache_key(state.visitor_id, kind, key) for key in keys]
    client = getattr(cache, "client", None)
    if not cache_keys or not hasattr(client, "get_client"):
        for cache_key in cache_keys:
            _increment(cache_key)
        return
    pipeline = client.get_client(write=True).pipeline(transaction=False)
    for cache_key in cache_keys:
        # django-redis stores integers unpickled, so INCR works on what ``cache.get`` reads back.
        raw = client.make_key(cache_key)
        pipeline.incr(raw)
        pipeline.expire(raw, EXPOSURE_TTL_SECONDS)
    pipeline.execute()


def _cache_key(visitor_id: str, kind: str, key: str | int) -> str:
    name = _name(kind, key, timezone.localdate())
    register_person_cache_key(name, EXPOSURE_TTL_SECONDS)  # so export and erasure find it on any cache backend
    return visitor_cache_key(visitor_id, name)


def _increment(cache_key: str) -> int:
    cache.add(cache_key, 0, EXPOSURE_TTL_SECONDS)
    try:
        return cache.incr(cache_key)
    except ValueError:  # expired between add and incr
        cache.add(cache_key, 1, EXPOSURE_TTL_SECONDS)
        return 1


def exposure_count(visitor_id: str, kind: str, key: str | int, day: date | None = None) -> int:
    """How many times ``kind`` ``key`` was rendered for this visitor on ``day`` (default today)."""
    name = _name(kind, key, day or timezone.localdate())
    return int(cache.get(visitor_cache_key(visitor_id, name), 0))


def exposure_name(kind: str, key: str | int, day: date | None = None) -> str:
    """The per-visitor cache name of the count of ``kind`` ``key`` on ``day`` (default today)."""
    return _name(kind, key, day or timezone.localdate())
