"""Behavior features (recency, frequency, monetary, categories, device, returning) from plain event tuples."""

from datetime import datetime, timedelta

import numpy as np
import pytest

from promotions.uplift.features import BehaviorEvent, behavior_features

NOW = datetime(2026, 11, 30, 12, 0)


def test_features_by_hand():
    events = [
        BehaviorEvent("v1", NOW - timedelta(days=10), "view", "shoes", "mobile"),
        BehaviorEvent("v1", NOW - timedelta(days=2), "purchase", "shoes", "desktop", 40.0),
        BehaviorEvent("v1", NOW - timedelta(days=2, hours=1), "purchase", "hats", "desktop", 10.0),
        BehaviorEvent("v1", NOW + timedelta(days=1), "purchase", "bags", "desktop", 999.0),  # after as_of
        BehaviorEvent("v2", NOW - timedelta(minutes=5), "view", "hats", "tablet"),
    ]
    result = behavior_features(events, as_of=NOW, visitor_ids=["v1", "v2", "v3"])
    assert result.names == [
        "recency_days",
        "frequency",
        "purchases",
        "monetary",
        "categories_touched",
        "category=hats",
        "category=shoes",
        "device=desktop",
        "device=mobile",
        "device=tablet",
        "returning",
    ]
    v1, v2, v3 = (dict(zip(result.names, row, strict=True)) for row in result.matrix)
    assert v1["recency_days"] == pytest.approx(2.0)
    assert (v1["frequency"], v1["purchases"], v1["monetary"], v1["categories_touched"]) == (2, 2, 50.0, 2)
    assert (v1["category=hats"], v1["category=shoes"]) == (1, 1)
    assert (v1["device=desktop"], v1["device=mobile"]) == pytest.approx((2 / 3, 1 / 3))
    assert v1["returning"] == 1
    # v2's only event is five minutes old: the same visit, so still new.
    assert v2["recency_days"] == pytest.approx(5 / 1440)
    assert (v2["returning"], v2["device=tablet"], v2["category=shoes"]) == (0, 1, 0)
    assert np.isnan(v3["recency_days"]) and v3["frequency"] == 0


def test_categories_fixed_for_serving_and_default_rows():
    events = [BehaviorEvent("a", NOW - timedelta(days=1), "view", "toys", "desktop")]
    served = behavior_features(events, as_of=NOW, categories=["shoes", "toys"])
    assert served.visitor_ids == ["a"]
    assert served.names[5:7] == ["category=shoes", "category=toys"]
    assert served.matrix[0, 5:7].tolist() == [0, 1]
