"""The beacon limits are checked like the app's other integer settings."""

import pytest
from django.core.checks import run_checks
from django.test import override_settings

from shop_demo import settings as shop_settings


@pytest.mark.parametrize("key", ["BEACON_MAX_EVENTS", "BEACON_MAX_BYTES"])
@pytest.mark.parametrize("value", [0, -1, "50", 1.5])
def test_beacon_limits_must_be_positive_integers(key, value):
    with override_settings(PROMOTIONS={**shop_settings.PROMOTIONS, key: value}):
        assert [m.id for m in run_checks() if m.id.startswith("promotions.")] == ["promotions.E008"]
