"""Content-based (the seed's 4.1 cosine), popularity and trending on hand-made data."""

import math

import numpy as np
import pytest

from promotions.recommenders import (
    ContentRecommender,
    Interactions,
    PopularityRecommender,
    Reason,
    TrendingRecommender,
)

from .conftest import ITEMS

DAY = 86400.0


def test_content_score_ranks_like_the_seed_cosine_of_the_mean_profile(interactions):
    # Categories only: a, b, d are "kitchen" = (1, 0); c is "table" = (0, 1).
    model = ContentRecommender(text_weight=0, price_weight=0).fit(interactions, ITEMS)
    profile = np.array([0.5, 0.5])  # weighted mean of a and c
    seed_cosine = profile @ np.array([1.0, 0.0]) / np.linalg.norm(profile)
    recommendations = model.recommend(history=["a", "c"])
    assert [r.item_id for r in recommendations] == ["b", "d"]  # a tie, broken by id
    # The score is the cosine times the history weight and the profile's norm (the same for all items).
    assert recommendations[0].score == pytest.approx(2 * np.linalg.norm(profile) * seed_cosine)
    assert recommendations[0].score == pytest.approx(1.0)


def test_content_tfidf_by_hand(interactions):
    model = ContentRecommender(category_weight=0, price_weight=0).fit(interactions, ITEMS)
    # Smooth idf over 4 titles: ln((1 + 4) / (1 + df)) + 1; "red" in 3, "mug" in 2, "blue" in 1.
    red, mug, blue = (math.log(5 / (1 + df)) + 1 for df in (3, 2, 1))
    expected = mug * mug / (math.hypot(red, mug) * math.hypot(blue, mug))
    [first, *_] = model.similar_items("a", k=3)
    assert first.item_id in ("b", "d")
    scores = {r.item_id: r.score for r in model.similar_items("a", k=3)}
    assert scores["b"] == pytest.approx(expected)


def test_content_recommends_catalogue_items_without_interactions(interactions):
    model = ContentRecommender().fit(interactions, ITEMS)
    assert "d" in model.item_ids.tolist()
    assert model.recommend(user_id="u1")[0].item_id == "d"  # red cup: like a red mug, same price band
    assert model.recommend(user_id="u1")[0].reason == Reason("similar_content", "a")  # the red mug u1 looked at


def test_popularity_counts_distinct_users_and_breaks_ties_by_id():
    rows = [("u1", "b", 0, "view", 1), ("u1", "b", 0, "view", 1), ("u1", "c", 0, "view", 1)]
    rows += [("u2", "c", 0, "view", 1), ("u2", "a", 0, "view", 1), ("u3", "b", 0, "view", 1)]
    model = PopularityRecommender().fit(Interactions.from_rows(rows))
    assert [(r.item_id, r.score) for r in model.recommend()] == [("b", 2.0), ("c", 2.0), ("a", 1.0)]
    assert [r.item_id for r in model.recommend(user_id="u1")] == ["a"]
    assert [r.item_id for r in model.recommend(exclude=["b"], k=1)] == ["c"]


def test_trending_weighs_each_user_by_their_latest_time():
    rows = [("u1", "a", 0.0, "view", 1), ("u1", "a", 20 * DAY, "view", 1)]  # u1's latest: now
    rows += [("u2", "b", 10 * DAY, "view", 1), ("u3", "b", 0.0, "view", 1)]  # one and two half-lives ago
    model = TrendingRecommender(half_life_days=10).fit(Interactions.from_rows(rows))
    assert [(r.item_id, r.score) for r in model.recommend()] == [("a", 1.0), ("b", pytest.approx(0.75))]
    assert model.recommend()[0].reason.kind == "trending"
