"""Throttling of the beacon endpoint, per visitor and per client address."""

from __future__ import annotations

import hashlib

from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView

#: Used when ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]`` names no rate for the scope.
DEFAULT_RATES = {
    "promotions_events": "120/min",
    "promotions_events_address": "600/min",
    "promotions_content": "600/min",
}


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
