"""Writing a request's per-visitor cache entries and counters in one round trip.

Serving keeps what it computed for a visitor (lists, answers, recent items) and counts what it
showed (frequency caps) while the page renders; the tracking middleware writes it all after the
response body went out. On django-redis that is one pipeline (each entry with its own expiry,
counters as INCRBY + EXPIRE); on other backends, one ``set_many`` per expiry and an add/incr per
counter.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.core.cache import cache

#: {cache key: (value, seconds or None for no expiry)}
Entries = dict[str, tuple[Any, int | None]]
#: {cache key: (increment, seconds)}
Counts = dict[str, tuple[int, int]]


def write(entries: Entries, counts: Counts) -> None:
    """Write the entries and add the counts (exceptions are the caller's: the cache may be down)."""
    client = getattr(cache, "client", None)
    if hasattr(client, "get_client"):
        pipeline = client.get_client(write=True).pipeline(transaction=False)
        for key, (value, seconds) in entries.items():
            # As django-redis's own set: its key prefixing and serializer.
            pipeline.set(client.make_key(key), client.encode(value), ex=seconds)
        for key, (delta, seconds) in counts.items():
            # django-redis stores integers unpickled, so INCRBY works on what ``cache.get`` reads back.
            raw = client.make_key(key)
            pipeline.incrby(raw, delta)
            pipeline.expire(raw, seconds)
        pipeline.execute()
        return
    by_timeout: dict[int | None, dict[str, Any]] = defaultdict(dict)
    for key, (value, seconds) in entries.items():
        by_timeout[seconds][key] = value
    for seconds, values in by_timeout.items():
        cache.set_many(values, seconds)
    for key, (delta, seconds) in counts.items():
        increment(key, delta, seconds)


def increment(key: str, delta: int, seconds: int) -> int:
    """Add ``delta`` to the counter (created with this expiry when missing); returns its value."""
    cache.add(key, 0, seconds)
    try:
        return cache.incr(key, delta)
    except ValueError:  # expired between add and incr
        cache.add(key, delta, seconds)
        return delta
