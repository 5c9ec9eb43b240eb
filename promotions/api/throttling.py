"""Throttling of the beacon and content endpoints, per visitor and per client address.

Each limit is a sliding window: at most N requests in any period of the rate's length.

* With ``PROMOTIONS["REDIS_URL"]`` the window is a Redis sorted set updated by one Lua script, in
  one round trip: trimming, counting and recording are a single atomic step, so concurrent
  requests (from any number of threads, processes and servers) cannot exceed the limit.
* Without Redis the window lives in Django's cache (shared by the shop's processes), guarded by a
  lock per key within each process; across processes its read-then-write can let a few extra
  requests through under bursts. Use Redis where the limits must hold exactly.
* While Redis or the cache fails, each process keeps the window in its own memory (thread-safe,
  bounded): the limit then holds per process rather than not at all.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
import uuid
from typing import Any

from django.core.cache import cache
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView

from ..conf import app_settings
from ..tracking import buffer

logger = logging.getLogger(__name__)

#: Used when ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]`` names no rate for the scope.
DEFAULT_RATES = {
    "promotions_events": "120/min",
    "promotions_events_address": "600/min",
    "promotions_content": "600/min",
}

# KEYS[1]: the window's sorted set; ARGV: limit, window (ms), a unique member. Redis's own clock
# times every request, so servers whose clocks differ still share one window.
# Returns {1, 0} when the request is allowed, else {0, milliseconds until a slot frees}.
SLIDING_WINDOW_SCRIPT = """
local key, limit, window = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
if redis.call('ZCARD', key) < limit then
  redis.call('ZADD', key, now, ARGV[3])
  redis.call('PEXPIRE', key, window)
  return {1, 0}
end
local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')[2]
return {0, oldest and (tonumber(oldest) + window - now) or window}
"""


def slide(stamps: list[float], now: float, limit: int, duration: float) -> tuple[bool, float, list[float]]:
    """One sliding-window step: the request times still inside the window, plus ``now`` if there
    was room; returns (allowed, seconds until a slot frees, the window's times)."""
    stamps = [stamp for stamp in stamps if stamp > now - duration]
    if len(stamps) >= limit:
        return False, (min(stamps) + duration - now) if stamps else float(duration), stamps
    stamps.append(now)
    return True, 0.0, stamps


class LocalLimiter:
    """Sliding windows in this process's memory, for when the shared store is unavailable.

    Thread-safe; holds at most ``max_keys`` windows, dropping the least recently used.
    """

    def __init__(self, max_keys: int = 100_000):
        self.max_keys = max_keys
        self._lock = threading.Lock()
        self._windows: dict[str, list[float]] = {}

    def hit(self, key: str, limit: int, duration: float, now: float | None = None) -> tuple[bool, float]:
        """Record a request if the window has room: (allowed, seconds until a slot frees)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            allowed, wait, window = slide(self._windows.pop(key, []), now, limit, duration)
            if window:
                self._windows[key] = window  # re-inserted last: the most recently used
            while len(self._windows) > self.max_keys:
                del self._windows[next(iter(self._windows))]
        return allowed, wait

    def __len__(self) -> int:
        return len(self._windows)


local_limiter = LocalLimiter()
# One lock per stripe of keys: a process's threads update a cached window one at a time.
_cache_locks = [threading.Lock() for _ in range(64)]
# Redis URL -> monotonic time before which it is not tried again after a failure.
_redis_down_until: dict[str, float] = {}
_scripts: dict[str, Any] = {}
_last_warning = [0.0]
WARNING_INTERVAL = 60.0


class StoreUnavailable(Exception):
    """The shared store (Redis or the cache) could not be read."""


def _redis_hit(url: str, key: str, limit: int, duration: int) -> tuple[bool, float]:
    script = _scripts.get(url)
    if script is None:
        script = _scripts[url] = buffer.redis_client().register_script(SLIDING_WINDOW_SCRIPT)
    allowed, wait_ms = script(keys=["promotions:" + key], args=[limit, duration * 1000, uuid.uuid4().hex])
    return bool(allowed), int(wait_ms) / 1000


def _cache_hit(key: str, limit: int, duration: int) -> tuple[bool, float]:
    now = time.time()
    with _cache_locks[hash(key) % len(_cache_locks)]:
        history = cache.get(key, [])
        if not isinstance(history, list):  # None: a cache that ignores its errors (django-redis)
            raise StoreUnavailable(f"the cache answered {history!r}")
        allowed, wait, history = slide(history, now, limit, duration)
        if allowed:
            cache.set(key, history, duration)
    return allowed, wait


def hit(key: str, limit: int, duration: int) -> tuple[bool, float]:
    """Count one request against ``key``'s window: (allowed, seconds until a slot frees)."""
    url = app_settings.REDIS_URL
    try:
        if not url:
            return _cache_hit(key, limit, duration)
        if time.monotonic() >= _redis_down_until.get(url, 0.0):
            try:
                return _redis_hit(url, key, limit, duration)
            except Exception:
                # Requests skip Redis for a while instead of each waiting on it.
                _redis_down_until[url] = time.monotonic() + buffer.REDIS_RETRY_SECONDS
                raise
    except Exception as error:
        if time.monotonic() >= _last_warning[0] + WARNING_INTERVAL:
            _last_warning[0] = time.monotonic()
            logger.warning("promotions: the throttle store is unavailable, limiting per process: %r", error)
    return local_limiter.hit(key, limit, duration)


class VisitorRateThrottle(SimpleRateThrottle):
    """Limits each signed visitor id to ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["promotions_events"]``.

    Permissions run before throttles, so every request counted here has a valid visitor cookie.
    """

    scope = "promotions_events"

    def get_rate(self) -> str:
        # Read at call time: DRF's class attribute is frozen at import, which would ignore
        # settings changed later (override_settings in tests).
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope) or DEFAULT_RATES[self.scope]

    def get_cache_key(self, request: Request, view: APIView) -> str:
        return self.cache_format % {"scope": self.scope, "ident": request.visitor_id}

    def allow_request(self, request: Request, view: APIView) -> bool:
        self.wait_seconds = 0.0
        key = self.get_cache_key(request, view)
        if self.rate is None or key is None:
            return True
        allowed, self.wait_seconds = hit(key, self.num_requests, self.duration)
        return allowed

    def wait(self) -> float:
        return max(self.wait_seconds, 0.001)  # Retry-After is rounded up: at least 1 second


class AddressRateThrottle(VisitorRateThrottle):
    """Limits each client address, so minting fresh visitor cookies does not lift the per-visitor limit.

    The address is hashed in the cache key and stored nowhere else.
    """

    scope = "promotions_events_address"

    def get_cache_key(self, request: Request, view: APIView) -> str:
        # No address at all (an ASGI server on a Unix socket sends none) is one shared bucket, not a crash.
        digest = hashlib.sha256((self.get_ident(request) or "").encode()).hexdigest()[:24]
        return self.cache_format % {"scope": self.scope, "ident": digest}


class ContentRateThrottle(AddressRateThrottle):
    """Limits the read endpoints (promotions, recommendations) per client address."""

    scope = "promotions_content"


class ApiKeyRateThrottle(VisitorRateThrottle):
    """Limits each API key to its own rate (``ApiKey.rate``), in the same sliding windows."""

    scope = "promotions_api_key"

    def allow_request(self, request: Request, view: APIView) -> bool:
        key = request.auth
        self.wait_seconds = 0.0
        if key is None or not getattr(key, "rate", None):
            return True
        self.num_requests, self.duration = self.parse_rate(key.rate)
        allowed, self.wait_seconds = hit(f"throttle_apikey_{key.prefix}", self.num_requests, self.duration)
        return allowed

    def get_rate(self) -> str:
        return "1/s"  # unused: each key's own rate is read in allow_request
