"""The sequential model's release rule: a position's target competes only with items on sale then.

Thirty people walk a -> b on the first days. A month later n goes on sale and six people walk
a -> n. After a, n is what people choose once it exists; without the rule every early a -> b counts
against n, which did not exist yet, and n stays behind b.
"""

import numpy as np

from promotions.recommenders import Interactions, SequentialRecommender
from promotions.recommenders.deep import event_days, release_days

DAY = 86400.0
ROWS = [
    row
    for user in range(30)
    for row in ((f"early{user}", "a", user * 600.0, "view", 1), (f"early{user}", "b", user * 600.0 + 60, "view", 1))
] + [
    row
    for user in range(6)
    for row in (
        (f"late{user}", "a", 30 * DAY + user * 600.0, "view", 1),
        (f"late{user}", "n", 30 * DAY + user * 600.0 + 60, "view", 1),
    )
]
PARAMS = {"dims": 16, "max_length": 4, "epochs": 40, "batch_size": 16, "verbose": False, "random_state": 3}


def next_after_a(**params: object) -> list[str]:
    model = SequentialRecommender(**PARAMS, **params).fit(Interactions.from_rows(ROWS))
    return [r.item_id for r in model.recommend(history=["a"], k=3)]


def test_release_days_are_each_item_first_day():
    rows = [("u", "x", 0.0, "view", 1), ("v", "y", 2 * DAY, "view", 1), ("v", "x", 3 * DAY, "view", 1)]
    interactions = Interactions.from_rows(rows)
    np.testing.assert_allclose(np.sort(event_days(interactions)), [1.0, 3.0, 4.0])
    # "w" is a catalogue item nobody chose: on sale from the start.
    np.testing.assert_allclose(release_days(interactions, np.array(["w", "x", "y"])), [0.0, 1.0, 3.0])


def test_a_new_item_is_predicted_where_people_choose_it_since_its_release():
    assert next_after_a(available_negatives=True)[0] == "n"


def test_without_the_release_rule_the_new_item_stays_behind_the_old_choice():
    ranked = next_after_a(available_negatives=False)
    assert ranked.index("b") < ranked.index("n")
