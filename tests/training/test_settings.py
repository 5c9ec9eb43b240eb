"""The training settings are type-checked by the system checks like every other key."""

import pytest
from django.core.checks import run_checks
from django.test import override_settings

from shop_demo import settings as shop_settings


def ids() -> list[str]:
    return sorted(m.id for m in run_checks() if m.id.startswith("promotions."))


@pytest.mark.parametrize(
    "key,value",
    [
        ("TRAINING_MODELS", "hybrid"),
        ("TRAINING_MODELS", ["hybrid", "nonsense"]),
        ("TRAINING_MODELS", []),
        ("TRAINING_EVENT_WEIGHTS", {"view": -1}),
        ("TRAINING_EVENT_WEIGHTS", {"view": "1"}),
        ("PRECOMPUTE_ACTIVE_DAYS", 0),
        ("PRECOMPUTE_TOP_N", 2.5),
    ],
)
def test_bad_training_settings_are_reported(key, value):
    with override_settings(PROMOTIONS={**shop_settings.PROMOTIONS, key: value}):
        assert "promotions.E008" in ids()


def test_good_training_settings_are_clean():
    good = {"TRAINING_MODELS": ["ease"], "TRAINING_EVENT_WEIGHTS": {"purchase": 1}, "PRECOMPUTE_TOP_N": 5}
    with override_settings(PROMOTIONS={**shop_settings.PROMOTIONS, **good}):
        assert ids() == []
