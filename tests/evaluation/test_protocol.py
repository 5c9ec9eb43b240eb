import json
import math

import numpy as np
import pytest

from promotions.evaluation import complete, evaluate, read_interactions, temporal_split
from promotions.evaluation.protocol import score_lists
from promotions.evaluation.tuning import choose, tune
from promotions.recommenders import PopularityRecommender, Reason, Recommendation, Recommender


class Fixed(Recommender):
    """Returns the same list for everyone, valid or not."""

    name = "fixed"

    def __init__(self, items=("zz", "c", "c", "b"), random_state=0):
        super().__init__(random_state)
        self.items = items

    def _fit(self, interactions, infos):
        pass

    def recommend(self, user_id=None, history=None, k=10, exclude=()):
        return [Recommendation(item, 1.0, Reason("fixed", "fixed")) for item in self.items]


@pytest.fixture
def split(tiny_csv):
    return temporal_split(read_interactions(tiny_csv))


def test_padding_cleans_the_list_then_fills_from_popularity(split):
    # u1 had a and b in train; zz is not in I; c repeats.
    assert complete(["zz", "c", "c", "b"], split, "u1", 3) == ["c"]
    assert complete(["c"], split, "u3", 2) == ["b", "a"]  # u3 had c: the list is b, a by popularity
    assert complete([], split, "u3", 1) == ["b"]


def test_evaluate_a_model_by_hand(split):
    result = evaluate(Fixed(), split, k=2)
    # u1: R = [c] only (I minus train items) -> hit at 1.  u3: R = [b, a] -> hit at 2.
    assert result.metrics["hr"] == 1.0
    assert result.metrics["recall"] == 1.0
    assert result.metrics["precision"] == pytest.approx((1 / 2 + 1 / 2) / 2)
    assert result.metrics["ndcg"] == pytest.approx((1 + 1 / math.log2(3)) / 2)
    assert result.metrics["map"] == pytest.approx((1 + 1 / 2) / 2)
    assert result.metrics["coverage"] == pytest.approx(3 / 3)
    assert result.fit_seconds >= 0 and result.ms_per_user >= 0
    assert result.user_ndcg.tolist() == pytest.approx([1.0, 1 / math.log2(3)])
    json.dumps(result.as_json())


def test_cold_slices_by_hand(split):
    # Every train user count is <= 5, so every ground-truth item is cold; u1 has 2 train items,
    # u3 has 1: both are cold users.
    overall, cold_users, cold_items, _ = score_lists(split, {"u1": ["c"], "u3": ["b", "c"]}, 2)
    assert cold_users == {**{name: overall[name] for name in ("ndcg", "recall", "hr", "precision", "map")}, "users": 2}
    assert cold_items == {"hr": 0.5, "recall": 0.5, "users": 2}


def test_popularity_model_equals_the_protocol_ranking(split):
    model = PopularityRecommender().fit(split.train.to_interactions())
    for user in split.truth:
        mine = [r.item_id for r in model.recommend(user_id=user, k=3)]
        assert complete(mine, split, user, 3) == complete([], split, user, 3)


def test_choose_prefers_the_earlier_candidate_within_noise():
    noisy = np.array([0.0, 1.0] * 50)
    assert choose([noisy, np.roll(noisy, 1) + 0.01]) == 0  # better by far less than a standard error
    assert choose([noisy, noisy + 0.5]) == 1
    assert choose([noisy + 0.5, noisy]) == 0


def test_tune_returns_a_grid_entry(split):
    result = tune("trending", [split], k=2)
    assert result.params in [params for params, _ in result.scores]
    assert len(result.scores) == 4
