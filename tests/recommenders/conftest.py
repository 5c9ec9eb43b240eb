"""Tiny hand-made data: four users, four items, computed by hand in the tests."""

import pytest

from promotions.recommenders import Interactions, Weighting

# u1: a b      u2: a c      u3: b c      u4: a b c      (items a, b, c; d appears only in the catalogue)
BASKETS = {"u1": "ab", "u2": "ac", "u3": "bc", "u4": "abc"}

ITEMS = [
    {"item_id": "a", "title": "red mug", "category": "kitchen", "price": 3.0},
    {"item_id": "b", "title": "blue mug", "category": "kitchen", "price": 4.0},
    {"item_id": "c", "title": "red plate", "category": "table", "price": 10.0},
    {"item_id": "d", "title": "red cup", "category": "kitchen", "price": 3.0},
]


def binary_interactions(baskets: dict[str, str]) -> Interactions:
    rows = [(user, item, 0.0, "purchase", 1) for user, items in baskets.items() for item in items]
    return Interactions.from_rows(rows, Weighting(event_weights={"purchase": 1.0}, quantity="ignore"))


@pytest.fixture
def interactions() -> Interactions:
    return binary_interactions(BASKETS)
