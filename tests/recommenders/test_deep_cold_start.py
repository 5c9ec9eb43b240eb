"""The neural model's cold-start mechanisms: a new item is not taught to lose to older choices, and
an item of few users is scored mostly by its content.

Twelve people buy mug1, mug2 and a bag on the first days, twelve buy plate1, plate2 and a bag. A
month later mug4, described exactly as mug1, goes on sale and one person buys it (with plate2).
"""

import numpy as np

from promotions.recommenders import Interactions, NeuralRecommender
from promotions.recommenders.neural import Parts, combine

DAY = 86400.0
ROWS = [
    row
    for user in range(12)
    for row in (
        (f"m{user}", "mug1", 0.0, "purchase", 1),
        (f"m{user}", "mug2", 1.0, "purchase", 1),
        (f"m{user}", "bag", 2.0, "purchase", 1),
        (f"p{user}", "plate1", 0.0, "purchase", 1),
        (f"p{user}", "plate2", 1.0, "purchase", 1),
        (f"p{user}", "bag", 2.0, "purchase", 1),
    )
] + [("late", "mug4", 30 * DAY, "purchase", 1), ("late", "plate2", 30 * DAY, "purchase", 1)]
ITEMS = [
    {"item_id": "mug1", "title": "red ceramic mug", "category": "kitchen", "price": 3.0},
    {"item_id": "mug2", "title": "blue ceramic mug", "category": "kitchen", "price": 3.5},
    {"item_id": "mug4", "title": "red ceramic mug", "category": "kitchen", "price": 3.0},
    {"item_id": "plate1", "title": "white dinner plate", "category": "table", "price": 9.0},
    {"item_id": "plate2", "title": "black dinner plate", "category": "table", "price": 9.5},
    {"item_id": "bag", "title": "paper bag", "category": "packaging", "price": 0.1},
]
PARAMS = {"epochs": 15, "dims": 16, "hidden": 32, "verbose": False, "random_state": 1}


def ranking(**params: object) -> list[str]:
    model = NeuralRecommender(**PARAMS, **params).fit(Interactions.from_rows(ROWS), ITEMS)
    return [r.item_id for r in model.recommend(history=["mug2"], k=10)]


def test_a_new_item_of_one_buyer_ranks_with_the_popular_item_of_the_same_content():
    ranked = ranking()
    assert ranked.index("mug4") < ranked.index("mug1") < ranked.index("plate1")


def test_without_the_release_rule_the_new_item_falls_behind_its_twin():
    # Every choice of the first days then counts against mug4, which did not exist yet.
    ranked = ranking(available_negatives=False)
    assert ranked.index("mug4") > ranked.index("mug1")


def test_id_weights_grow_with_the_item_users():
    weights = NeuralRecommender(cold_start_users=10.0).id_weights(np.array([0, 1, 10, 990]))
    np.testing.assert_allclose(weights, [0.0, 1 / 11, 0.5, 0.99])
    np.testing.assert_array_equal(NeuralRecommender(cold_start_users=0.0).id_weights(np.array([0, 3])), [0.0, 1.0])


def test_an_item_of_few_users_is_served_mostly_by_its_content():
    # Two items with the same content part and opposite id parts: one user, then 1,000 users.
    content, ids = np.array([[1.0, 0.0], [1.0, 0.0]]), np.array([[0.0, 4.0], [0.0, 4.0]])
    query, candidate = combine(Parts(content, ids, content, ids), np.array([1 / 11, 1000 / 1010]))
    np.testing.assert_allclose(query, [[1.0, 4 / 11], [1.0, 4000 / 1010]], rtol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(candidate, axis=1), 1.0, rtol=1e-6)
    assert candidate[0, 0] > 0.9 > 0.3 > candidate[1, 0]
