"""Request-time work: the history cap (``max_history``) and the numpy row helpers serving relies on."""

import numpy as np
import pytest
import scipy.sparse as sp

from promotions.recommenders import MODELS, HybridRecommender, Interactions, ItemKNNRecommender, Recommender
from promotions.recommenders.base import csr_block, csr_entries, csr_weighted_rows

# u1 touched i0..i5 in that order (i0 first, a day apart); the others make items co-occur.
ROWS = [("u1", f"i{n}", 86400.0 * n, "purchase", 1) for n in range(6)] + [
    (f"v{n}", item, 0.0, "purchase", 1) for n in range(6) for item in (f"i{n}", f"i{(n + 1) % 8}", "i6", "i7")
]


@pytest.fixture
def interactions() -> Interactions:
    return Interactions.from_rows(ROWS)


def ids(model: Recommender, indices: np.ndarray) -> list[str]:
    return [str(model.item_ids[i]) for i in indices]


def test_cap_keeps_the_most_recent_stored_items(interactions):
    model = ItemKNNRecommender(max_history=3).fit(interactions)
    visitor = model.history("u1")
    assert ids(model, visitor.indices) == ["i3", "i4", "i5"]
    assert ids(model, visitor.touched) == [f"i{n}" for n in range(6)]
    # Capped-out items are still never recommended back.
    recommended = {r.item_id for r in model.recommend(user_id="u1", k=10)}
    assert recommended and not recommended & {f"i{n}" for n in range(6)}


def test_session_items_come_first_and_newest_win(interactions):
    model = ItemKNNRecommender(max_history=3).fit(interactions)
    visitor = model.history("u1", ["i7", "i6"])
    assert ids(model, visitor.indices) == ["i5", "i6", "i7"]
    session_only = model.history(None, ["i0", "i1", "i2", "i3", "i4"])
    assert ids(model, session_only.indices) == ["i2", "i3", "i4"]
    assert ids(model, session_only.touched) == ["i0", "i1", "i2", "i3", "i4"]


def test_no_cap_scores_the_whole_history(interactions):
    model = ItemKNNRecommender(max_history=None).fit(interactions)
    assert ids(model, model.history("u1").indices) == [f"i{n}" for n in range(6)]
    assert model.history("u1").seen is None


def test_cap_changes_scores_only_through_dropped_items(interactions):
    capped = ItemKNNRecommender(max_history=2).fit(interactions)
    whole = ItemKNNRecommender(max_history=None).fit(interactions)
    recent = {r.item_id: r.score for r in whole.recommend(history=["i4", "i5"], k=10)}
    assert {r.item_id: r.score for r in capped.recommend(user_id="u1", k=10)} == pytest.approx(
        {item: score for item, score in recent.items() if item not in {f"i{n}" for n in range(6)}}
    )


def test_cap_round_trips_and_old_artifacts_cap_by_weight(interactions):
    model = HybridRecommender(max_history=3).fit(interactions)
    loaded = Recommender.load(model.save())
    assert loaded.max_history == 3
    assert ids(loaded, loaded.history("u1").indices) == ["i3", "i4", "i5"]
    # An artifact saved before the cap existed has no times: the heaviest items are kept.
    loaded.last_seen = None
    loaded.user_items = loaded.user_items.copy()
    row = slice(*loaded.user_items.indptr[loaded.user_index["u1"] : loaded.user_index["u1"] + 2])
    loaded.user_items.data[row] = [6.0, 5.0, 4.0, 3.0, 2.0, 1.0]
    assert ids(loaded, loaded.history("u1").indices) == ["i0", "i1", "i2"]


@pytest.mark.parametrize("name", ["item_knn", "user_knn", "ease", "content", "hybrid", "neural"])
def test_every_history_model_has_the_cap(name):
    assert MODELS[name]().get_params()["max_history"] == 50


def test_row_helpers_equal_scipy():
    rng = np.random.default_rng(3)
    matrix = sp.random(40, 30, density=0.2, format="csr", random_state=rng)
    rows = np.array([5, 0, 17, 5, 39])
    weights = rng.random(len(rows))
    positions, columns, values = csr_entries(matrix, rows)
    rebuilt = sp.csr_matrix((values, (positions, columns)), shape=(len(rows), 30)).toarray()
    np.testing.assert_allclose(rebuilt, matrix[rows].toarray())
    np.testing.assert_allclose(csr_weighted_rows(matrix, rows, weights), weights @ matrix[rows].toarray())
    chosen = np.array([29, 3, 11])
    np.testing.assert_allclose(csr_block(matrix, rows, chosen), matrix[rows][:, chosen].toarray())
    assert csr_weighted_rows(matrix, np.array([], dtype=np.int64), np.zeros(0)).shape == (30,)
