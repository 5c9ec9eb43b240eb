"""Shared pieces of the security tests: a consenting browser with a signed visitor cookie, high throttles."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import override_settings

from tests.api.conftest import beacon, visitor_id  # noqa: F401 - the beacon tests' fixtures, shared
from tests.tracking.conftest import product  # noqa: F401 - the tracking tests' product, shared


def rest_framework_with(**rates: str) -> dict:
    """The project's REST_FRAMEWORK settings (NUM_PROXIES included) with these throttle rates."""
    current = settings.REST_FRAMEWORK
    return {**current, "DEFAULT_THROTTLE_RATES": {**current["DEFAULT_THROTTLE_RATES"], **rates}}


@pytest.fixture
def unthrottled():
    """Throttles far above what a fuzz run sends, so every request reaches validation."""
    cache.clear()
    high = rest_framework_with(promotions_events="1000000/min", promotions_events_address="1000000/min")
    with override_settings(REST_FRAMEWORK=high):
        yield
    cache.clear()
