import math

import pytest

from promotions.evaluation import read_interactions, temporal_split, validation_splits
from promotions.evaluation.metrics import average_precision, coverage, hit_rate, ndcg, precision, recall
from promotions.evaluation.split import SplitError


def test_split_rules(tiny_csv):
    split = temporal_split(read_interactions(tiny_csv))
    assert split.t_cut == read_interactions(tiny_csv).timestamps[7]  # 2024-01-09
    # Rows at exactly t_cut (u1-c and u3-a) are test rows.
    assert len(split.train) == 7 and len(split.test) == 3
    assert split.users == ["u1", "u2", "u3", "u4"] and split.items == ["a", "b", "c"]
    # u1: c is new -> G = {c}.  u3: a is new -> {a}.  u4: z is not in I -> no ground truth.
    # u2: no test rows -> not evaluated.
    assert split.truth == {"u1": {"c"}, "u3": {"a"}}
    assert split.item_users == {"a": 2, "b": 3, "c": 2}
    assert split.popularity == ["b", "a", "c"]  # a and c tie on 2 users: by id


def test_ground_truth_drops_items_the_user_had_in_train(tmp_path):
    rows = ["u1,a,2024-01-01", "u1,b,2024-01-02", "u2,b,2024-01-03", "u1,a,2024-01-04", "u1,b,2024-01-05"]
    path = tmp_path / "r.csv"
    path.write_text("user_id,item_id,timestamp\n" + "\n".join(rows) + "\n")
    split = temporal_split(read_interactions(path))  # floor(0.8 * 5) = 4: t_cut = 2024-01-05
    assert len(split.train) == 4
    assert split.truth == {}  # u1's only test item, b, is one of their train items


def test_split_needs_rows_before_the_cut(tmp_path):
    path = tmp_path / "same.csv"
    path.write_text("user_id,item_id,timestamp\nu1,a,2024-01-01\nu2,a,2024-01-01\n")
    with pytest.raises(SplitError, match="training part would be empty"):
        temporal_split(read_interactions(path))


def test_validation_windows_split_the_train_rows_only(tiny_csv):
    split = temporal_split(read_interactions(tiny_csv))
    windows = validation_splits(split, (0.6, 0.8))
    assert [len(window.train) + len(window.test) for window in windows] == [7, 7]
    assert [len(window.train) for window in windows] == [4, 5]  # floor(0.6 * 7) = 4, floor(0.8 * 7) = 5
    assert all(window.t_cut <= split.t_cut for window in windows)


def test_metrics_by_hand():
    ranked = ["x", "a", "y", "b"]
    truth = {"a", "b", "c"}
    k = 4
    assert hit_rate(ranked, truth) == 1.0
    assert precision(ranked, truth, k) == 2 / 4
    assert recall(ranked, truth, k) == 2 / 3
    dcg = 1 / math.log2(3) + 1 / math.log2(5)
    ideal = 1 + 1 / math.log2(3) + 1 / math.log2(4)
    assert ndcg(ranked, truth, k) == pytest.approx(dcg / ideal)
    assert average_precision(ranked, truth, k) == pytest.approx((1 / 2 + 2 / 4) / 3)
    # min(|G|, K) caps the ideal and the AP denominator.
    assert ndcg(["a"], {"a", "b"}, 1) == 1.0
    assert average_precision(["a"], {"a", "b"}, 1) == 1.0
    assert hit_rate(["x"], truth) == 0.0 and ndcg(["x"], truth, 1) == 0.0
    assert coverage([["a", "b"], ["b", "c"]], 6) == 3 / 6
