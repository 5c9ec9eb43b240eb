"""Item-item, user-user and EASE on tiny data, against values computed by hand."""

import math
import warnings

import numpy as np
import pytest
import scipy.sparse as sp

from promotions.recommenders import (
    CatalogueTooLargeError,
    EASERecommender,
    Interactions,
    ItemKNNRecommender,
    Recommender,
    UserKNNRecommender,
)

from .conftest import binary_interactions

# Item vectors over users u1..u4:  a = (1,1,0,1)  b = (1,1,1,1)  c = (0,0,1,1)
SKEWED = {"u1": "ab", "u2": "ab", "u3": "bc", "u4": "abc"}
COS_AB = 3 / (math.sqrt(3) * 2)
COS_AC = 1 / (math.sqrt(3) * math.sqrt(2))
COS_BC = 2 / (2 * math.sqrt(2))


def seed_cosine(x: np.ndarray, y: np.ndarray) -> float:
    """The seed article's 4.2: sums over co-rated users only."""
    both = (x != 0) & (y != 0)
    if not both.any():
        return 0.0
    return float(x[both] @ y[both] / (np.sqrt((x[both] ** 2).sum()) * np.sqrt((y[both] ** 2).sum())))


def test_item_cosine_is_over_whole_vectors_not_only_co_rated_users():
    interactions = binary_interactions(SKEWED)
    model = ItemKNNRecommender(weighting="none", shrinkage=0.0, neighbours=10).fit(interactions)
    similarity = model.similarity.toarray()
    assert similarity[0, 1] == pytest.approx(COS_AB)
    assert similarity[0, 2] == pytest.approx(COS_AC)
    assert similarity[1, 2] == pytest.approx(COS_BC)
    assert np.diag(similarity).tolist() == [0, 0, 0]
    # On 0/1 data the seed's co-rated cosine is 1 for every overlapping pair: it cannot rank.
    columns = interactions.matrix.toarray().T
    assert [seed_cosine(columns[i], columns[j]) for i, j in ((0, 1), (0, 2), (1, 2))] == pytest.approx([1, 1, 1])


def test_item_knn_shrinkage_pruning_and_scores():
    interactions = binary_interactions(SKEWED)
    shrunk = ItemKNNRecommender(weighting="none", shrinkage=1.0).fit(interactions)
    assert shrunk.similarity[0, 1] == pytest.approx(3 / (2 * math.sqrt(3) + 1))
    pruned = ItemKNNRecommender(weighting="none", shrinkage=0.0, neighbours=1).fit(interactions)
    assert pruned.similarity.toarray() == pytest.approx(np.array([[0, COS_AB, 0], [COS_AB, 0, 0], [0, COS_BC, 0]]))
    full = ItemKNNRecommender(weighting="none", shrinkage=0.0).fit(interactions)
    [recommendation] = full.recommend(user_id="u3")
    assert (recommendation.item_id, recommendation.score) == ("a", pytest.approx(COS_AB + COS_AC))
    assert recommendation.reason.item_id == "b"
    assert [r.item_id for r in full.similar_items("c", k=2)] == ["b", "a"]


@pytest.mark.parametrize("weighting", ["tfidf", "bm25"])
def test_item_knn_weightings_give_symmetric_similarities(weighting):
    interactions = binary_interactions({"u1": "ab", "u2": "ab", "u3": "bc", "u4": "abc", "u5": "d", "u6": "cd"})
    similarity = ItemKNNRecommender(weighting=weighting).fit(interactions).similarity.toarray()
    assert similarity == pytest.approx(similarity.T)
    assert (similarity >= 0).all()
    with pytest.raises(ValueError, match="weighting"):
        ItemKNNRecommender(weighting="lsa").fit(interactions)


def test_user_knn_by_hand():
    interactions = binary_interactions(SKEWED)
    # u3 = (0,1,1)/sqrt2: cos with u1 = u2 = 1/2, with u4 = 2/sqrt6.
    every = UserKNNRecommender(neighbours=3).fit(interactions)
    [recommendation] = every.recommend(user_id="u3")
    assert (recommendation.item_id, recommendation.score) == ("a", pytest.approx(0.5 + 0.5 + 2 / math.sqrt(6)))
    assert recommendation.reason.kind == "similar_customers"
    nearest = UserKNNRecommender(neighbours=1).fit(interactions)
    assert nearest.recommend(user_id="u3")[0].score == pytest.approx(2 / math.sqrt(6))
    # A visitor known only by items is compared with every stored user.
    assert [r.item_id for r in every.recommend(history=["c"])] == ["b", "a"]


def test_ease_closed_form_by_hand():
    # Two items: a bought by 3 users, b by 2, both by 2. G = [[3+l, 2], [2, 2+l]].
    interactions = binary_interactions({"u1": "ab", "u2": "a", "u3": "ab"})
    model = EASERecommender(l2=1.0).fit(interactions)
    assert model.weights == pytest.approx(np.array([[0, 2 / (3 + 1)], [2 / (2 + 1), 0]]))
    assert model.recommend(history=["a"])[0].score == pytest.approx(0.5)
    assert model.recommend(history=["b"])[0].score == pytest.approx(2 / 3)


def test_ease_size_guard_prunes_or_refuses():
    interactions = binary_interactions(SKEWED)
    with pytest.raises(CatalogueTooLargeError, match="max_items=2"):
        EASERecommender(max_items=2, prune=False, solver="dense").fit(interactions)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = EASERecommender(max_items=2, solver="dense").fit(interactions)
    assert "Keeping the 2 most popular items" in str(caught[0].message)
    assert model.kept.tolist() == [0, 1]  # b (4 users) and a (3 users)
    assert [r.item_id for r in model.recommend(history=["a"])] == ["b"]


def test_a_models_own_half_life_also_weighs_the_stored_history():
    day = 86400.0
    rows = [("u1", "a", 0.0, "view", 1), ("u1", "b", 10 * day, "view", 1), ("u2", "a", 10 * day, "view", 1)]
    interactions = Interactions.from_rows(rows)
    plain = EASERecommender(l2=1.0).fit(interactions)
    decayed = EASERecommender(l2=1.0, half_life_days=10).fit(interactions)
    assert plain.history("u1").weights.tolist() == [1.0, 1.0]
    assert decayed.history("u1").weights.tolist() == pytest.approx([0.5, 1.0])
    assert decayed.weights == pytest.approx(plain.weights)  # binary fit: same item weights


def test_user_knn_precomputed_neighbours_give_exactly_the_scans_lists():
    rng = np.random.default_rng(7)
    rows = []
    for user in range(240):
        # Repeated taste profiles make exact similarity ties; long histories are capped at 6.
        profile = np.random.default_rng(user % 40).choice(50, size=int(rng.integers(1, 14)), replace=False)
        for step, item in enumerate(profile.tolist()):
            rows.append((f"u{user:03d}", f"i{item:02d}", 1000.0 * step + user, "purchase" if step % 3 else "view", 1))
    interactions = Interactions.from_rows(rows)
    fast = UserKNNRecommender(neighbours=7, max_history=6).fit(interactions)
    scan = UserKNNRecommender(neighbours=7, max_history=6, precompute_neighbours=False).fit(interactions)
    assert fast.user_neighbours.shape == (240, 240) and scan.user_neighbours is None
    loaded = Recommender.load(fast.save())
    assert (loaded.user_neighbours != fast.user_neighbours).nnz == 0
    # A sample of users (as the scale benchmark times it): their rows are the full computation's.
    sample = np.array([3, 17, 17, 200, 239, 64])
    partial = fast._all_neighbours(block=2, users=sample)
    assert np.array_equal(np.flatnonzero(np.diff(partial.indptr)), np.unique(sample))
    assert (partial[np.unique(sample)] != fast.user_neighbours[np.unique(sample)]).nnz == 0
    for user in interactions.user_ids.tolist():
        expected = [(r.item_id, pytest.approx(r.score)) for r in scan.recommend(user_id=user, k=10)]
        assert [(r.item_id, r.score) for r in fast.recommend(user_id=user, k=10)] == expected
        assert [(r.item_id, r.score) for r in loaded.recommend(user_id=user, k=10)] == expected
    # Erasure: the forgotten users leave every stored list, which the scan then fills again.
    assert fast.forget_users(["u000", "u040", "u081"]) == scan.forget_users(["u000", "u040", "u081"]) == 3
    assert not set(fast.user_neighbours.indices.tolist()) & {0, 40, 81}
    for user in interactions.user_ids.tolist()[1:]:
        expected = [(r.item_id, pytest.approx(r.score)) for r in scan.recommend(user_id=user, k=10)]
        assert [(r.item_id, r.score) for r in fast.recommend(user_id=user, k=10)] == expected
    # With session items the request is not the stored history: both compare with the users.
    session = ["i03", "i17"]
    assert [r.item_id for r in fast.recommend(user_id="u005", history=session)] == [
        r.item_id for r in scan.recommend(user_id="u005", history=session)
    ]


def random_baskets(users: int = 150, items: int = 30, seed: int = 3) -> Interactions:
    rng = np.random.default_rng(seed)
    rows = []
    for user in range(users):
        taste = rng.integers(0, 3)
        chosen = rng.choice(items, size=int(rng.integers(2, 9)), replace=False, p=_taste(items, taste))
        rows += [(f"u{user:03d}", f"i{item:02d}", float(step), "purchase", 1) for step, item in enumerate(chosen)]
    return Interactions.from_rows(rows)


def _taste(items: int, taste: int) -> np.ndarray:
    weights = np.ones(items)
    weights[taste * 10 : taste * 10 + 10] = 6.0
    return weights / weights.sum()


@pytest.mark.parametrize("dense_gram_items", [6000, 0])  # X'X indexed densely, or per neighbourhood
def test_sparse_ease_with_every_item_as_neighbour_is_the_exact_closed_form(monkeypatch, dense_gram_items):
    from promotions.recommenders import ease

    monkeypatch.setattr(ease, "DENSE_GRAM_ITEMS", dense_gram_items)
    interactions = random_baskets()
    exact = EASERecommender(l2=20.0, solver="dense").fit(interactions)
    full = EASERecommender(l2=20.0, solver="sparse", neighbourhood=29).fit(interactions)
    assert full.weights.toarray() == pytest.approx(exact.weights, abs=1e-5)
    for user in ["u001", "u042", "u117"]:
        assert [(r.item_id, r.reason) for r in full.recommend(user_id=user)] == [
            (r.item_id, r.reason) for r in exact.recommend(user_id=user)
        ]


def test_sparse_ease_keeps_each_items_neighbourhood_and_serves_after_a_round_trip(monkeypatch):
    from promotions.recommenders import ease

    interactions = random_baskets()
    by_dense_gram = EASERecommender(l2=20.0, solver="sparse", neighbourhood=5).fit(interactions).weights
    monkeypatch.setattr(ease, "DENSE_GRAM_ITEMS", 0)
    by_neighbourhood = EASERecommender(l2=20.0, solver="sparse", neighbourhood=5).fit(interactions).weights
    assert (by_dense_gram != by_neighbourhood).nnz == 0 or abs(by_dense_gram - by_neighbourhood).max() < 1e-6
    # Above max_items the automatic solver is the sparse one: every item kept, no warning.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = EASERecommender(l2=20.0, max_items=10, neighbourhood=5).fit(interactions)
    assert model.kept.tolist() == list(range(30))
    per_column = np.diff(sp.csc_matrix(model.weights).indptr)
    assert per_column.max() <= 5 and per_column.min() >= 1
    loaded = Recommender.load(model.save())
    assert (loaded.weights != model.weights).nnz == 0
    assert loaded.recommend(history=["i03", "i07"]) == model.recommend(history=["i03", "i07"])
    with pytest.raises(ValueError, match="solver"):
        EASERecommender(solver="magic").fit(interactions)
