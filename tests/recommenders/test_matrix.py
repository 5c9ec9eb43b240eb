import math

import numpy as np
import pytest

from promotions.recommenders import Interactions, Weighting

DAY = 86400.0


def test_event_weights_quantity_and_duplicates_add_up():
    rows = [
        ("u1", "b", 0.0, "view", 1),
        ("u1", "b", 0.0, "purchase", 3),
        ("u2", "a", 0.0, "add_to_cart", None),
        ("u2", "a", 0.0, "unknown-event", 1),
    ]
    interactions = Interactions.from_rows(rows)
    assert interactions.user_ids.tolist() == ["u1", "u2"]
    assert interactions.item_ids.tolist() == ["a", "b"]
    matrix = interactions.matrix.toarray()
    # view 1 + purchase 5 * (1 + ln 3); add_to_cart 3 (missing quantity = 1) + default 1.
    assert matrix[0, 1] == pytest.approx(1 + 5 * (1 + math.log(3)))
    assert matrix[1, 0] == pytest.approx(3 + 1)
    assert matrix[0, 0] == 0


def test_quantity_modes_and_zero_weight_rows_are_dropped():
    rows = [("u1", "a", 0.0, "purchase", 4), ("u2", "b", 0.0, "ignored", 1)]
    linear = Interactions.from_rows(rows, Weighting(event_weights={"purchase": 2.0, "ignored": 0.0}, quantity="linear"))
    assert linear.item_ids.tolist() == ["a"]
    assert linear.matrix.toarray().tolist() == [[8.0]]
    ignore = Interactions.from_rows(rows[:1], Weighting(quantity="ignore"))
    assert ignore.matrix.toarray().tolist() == [[5.0]]
    with pytest.raises(ValueError, match="quantity"):
        Weighting(quantity="sqrt")


def test_time_decay_halves_weight_per_half_life_before_the_newest_row():
    rows = [("u1", "a", 0.0, "view", 1), ("u1", "b", 10 * DAY, "view", 1), ("u2", "a", 20 * DAY, "view", 1)]
    interactions = Interactions.from_rows(rows, Weighting(half_life_days=10))
    assert interactions.matrix.toarray() == pytest.approx(np.array([[0.25, 0.5], [1.0, 0.0]]))
    assert interactions.weighted(None).toarray() == pytest.approx(np.array([[1.0, 1.0], [1.0, 0.0]]))


def test_last_seen_and_datetime_timestamps():
    rows = [("u1", "a", "2024-01-02T00:00:00", "view", 1), ("u1", "a", "2024-01-01", "view", 1)]
    interactions = Interactions.from_rows(rows)
    assert interactions.last_seen.toarray()[0, 0] == pytest.approx(1704153600.0)


def test_rating_and_dwell_weights_by_hand():
    rows = [
        ("u", "liked", 0.0, "rating", None, 5),  # (5/3)^1
        ("u", "disliked", 0.0, "rating", None, 1),  # (1/3)^1
        ("u", "read", 0.0, "view", None, None, 90.0),  # 2 * 90 / (90 + 30) = 1.5
        ("u", "bounced", 0.0, "view", None, None, 3.0),  # 2 * 3 / 33
        ("u", "plain", 0.0, "view", None, None, None),  # no dwell: 1
    ]
    rows = [row + (None,) * (7 - len(row)) for row in rows]
    weights = {"view": 1.0, "rating": 2.0}
    tuned = Weighting(event_weights=weights, quantity="ignore", rating_power=1.0, dwell_seconds=30.0)
    matrix = Interactions.from_rows(rows, tuned)
    got = dict(zip(matrix.item_ids.tolist(), matrix.matrix.toarray()[0].tolist(), strict=True))
    assert got == pytest.approx(
        {"liked": 2.0 * 5 / 3, "disliked": 2.0 / 3, "read": 1.5, "bounced": 6 / 33, "plain": 1.0}
    )
    # The defaults leave both signals unused: every row weighs its event weight.
    neutral = Interactions.from_rows(rows, Weighting(event_weights=weights, quantity="ignore"))
    got = dict(zip(neutral.item_ids.tolist(), neutral.matrix.toarray()[0].tolist(), strict=True))
    assert got == {"liked": 2.0, "disliked": 2.0, "read": 1.0, "bounced": 1.0, "plain": 1.0}
    with pytest.raises(ValueError):
        Weighting(dwell_seconds=0)
