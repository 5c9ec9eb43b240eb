"""MMR over categories and intra-list diversity, by hand."""

import pytest

from promotions.recommenders.diversity import intra_list_diversity, mmr

RANKED = [("a1", 1.0), ("a2", 0.9), ("a3", 0.8), ("b1", 0.5), ("c1", 0.2), ("x", 0.1)]
CATEGORIES = {"a1": "A", "a2": "A", "a3": "A", "b1": "B", "c1": "C", "x": ""}


def test_no_diversity_keeps_the_order():
    assert mmr(RANKED, CATEGORIES, 4) == ["a1", "a2", "a3", "b1"]


def test_mmr_by_hand():
    # diversity 0.3: after a1, a2 is worth 0.7 * 0.9 - 0.3 = 0.33 < b1's 0.7 * 0.5 = 0.35, so b1 comes
    # second; then a2 (0.33) beats c1 (0.14) and x (0.07).
    assert mmr(RANKED, CATEGORIES, 3, diversity=0.3) == ["a1", "b1", "a2"]
    # diversity 0.5: a2 is worth 0.45 - 0.5 < 0; b1 0.25, c1 0.10, x (no category, no penalty) 0.05.
    assert mmr(RANKED, CATEGORIES, 5, diversity=0.5) == ["a1", "b1", "c1", "x", "a2"]


def test_intra_list_diversity_by_hand():
    assert intra_list_diversity(["a1", "a2", "b1"], CATEGORIES) == pytest.approx(2 / 3)  # a1-b1, a2-b1 differ
    assert intra_list_diversity(["a1", "x"], CATEGORIES) == 0.0  # one categorized item: no pair
    with pytest.raises(ValueError):
        mmr(RANKED, CATEGORIES, 3, diversity=1.5)


def test_a_model_diversifies_its_list_on_request():
    from promotions.recommenders import Interactions, PopularityRecommender, Weighting

    # Popularity: a1 (4 users), a2 (3), b1 (2), a3 (1); a1, a2, a3 share a category.
    rows = [(f"u{n}", item, 0.0) for item, users in (("a1", 4), ("a2", 3), ("b1", 2), ("a3", 1)) for n in range(users)]
    items = [{"item_id": i, "category": "A" if i.startswith("a") else "B"} for i in ("a1", "a2", "a3", "b1")]
    model = PopularityRecommender().fit(Interactions.from_rows(rows, Weighting()), items)
    assert [r.item_id for r in model.recommend(k=2)] == ["a1", "a2"]
    # diversity 0.5: a2 is worth 0.5 * 3/4 - 0.5 < b1's 0.5 * 2/4.
    assert [r.item_id for r in model.recommend(k=2, diversity=0.5)] == ["a1", "b1"]
