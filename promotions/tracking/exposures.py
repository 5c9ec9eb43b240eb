"""What was shown, counted when it is rendered.

Serving calls ``record_exposures`` for what a page shows: the counts go to Django's cache (Redis
in production, so every process sees them) once the response body went out, with the page's
other cache writes, or at once without the tracking middleware (``record_exposure`` counts one and
returns the new count); never through the event buffer. Frequency caps and experiment exposure read these counts; the
beacon's viewport impressions, which say what was really seen, go to the event log.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from django.core.cache import cache
from django.http import HttpRequest
from django.utils import timezone

from ..visitors import cachewrites
from ..visitors.keys import visitor_cache_key
from .personcache import EXPOSURES

EXPOSURE_TTL_SECONDS = EXPOSURES.lifetime


def _name(kind: str, key: str | int, day: date) -> str:
    # The "promotion" kind, the one serving counts, is EXPOSURES' template (a test holds them together).
    return f"exposures:{day.isoformat()}:{kind}:{key}"


def record_exposure(request: HttpRequest, kind: str, key: str | int) -> int:
    """Count one exposure of ``kind`` ("promotion", "recommendation"...) ``key`` to this visitor
    today; returns today's count. Visitors who may not be tracked are not counted (0)."""
    state = getattr(request, "promotions", None)
    if state is None or not state.allowed:
        return 0
    return cachewrites.increment(_cache_key(state.visitor_id, kind, key), 1, EXPOSURE_TTL_SECONDS)


def record_exposures(request: HttpRequest, kind: str, keys: Iterable[str | int]) -> None:
    """Count one exposure of each key. Under the tracking middleware the counts are added after the
    response body went out, with the page's other cache writes (``TrackingState.cache_writes``);
    the page itself has read the counts already. Without it they are added now, in one round trip."""
    state = getattr(request, "promotions", None)
    if state is None or not state.allowed:
        return
    counts = {_cache_key(state.visitor_id, kind, key): (1, EXPOSURE_TTL_SECONDS) for key in keys}
    if state.cache_counts is not None:
        for cache_key, (delta, seconds) in counts.items():
            pending = state.cache_counts.get(cache_key, (0, seconds))[0]
            state.cache_counts[cache_key] = (pending + delta, seconds)
    elif counts:
        cachewrites.write({}, counts)


def _cache_key(visitor_id: str, kind: str, key: str | int) -> str:
    return visitor_cache_key(visitor_id, _name(kind, key, timezone.localdate()))


def exposure_count(visitor_id: str, kind: str, key: str | int, day: date | None = None) -> int:
    """How many times ``kind`` ``key`` was rendered for this visitor on ``day`` (default today)."""
    name = _name(kind, key, day or timezone.localdate())
    return int(cache.get(visitor_cache_key(visitor_id, name), 0))


def exposure_name(kind: str, key: str | int, day: date | None = None) -> str:
    """The per-visitor cache name of the count of ``kind`` ``key`` on ``day`` (default today)."""
    return _name(kind, key, day or timezone.localdate())
