"""Protocol v2 (buy-again) by hand on a tiny log, through the command, and on the shared file."""

import csv
import gzip
import json
import math
from collections import defaultdict
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from django.core.management import CommandError, call_command

from promotions.evaluation import read_interactions, temporal_split
from promotions.evaluation.repeat import BASELINES, complete_v2, evaluate_v2, repeat_split
from promotions.management.commands.promotions_evaluate import known_models, model_names
from promotions.recommenders import MODELS, REPEAT_MODELS, PopularityRecommender

from .conftest import write_csv

# Twelve rows; sorted timestamps: t_cut = ts[floor(0.8 * 12)] = ts[9] = 2024-01-10, and the five
# rows of that day are the test part. I = {a, b, c, d}, U = {u1, u2, u3}.
REPEATS = """user_id,item_id,timestamp
u1,a,2024-01-01
u1,a,2024-01-02
u1,b,2024-01-03
u2,b,2024-01-01
u2,c,2024-01-04
u3,a,2024-01-02
u3,d,2024-01-05
u1,a,2024-01-10
u1,c,2024-01-10
u2,b,2024-01-10
u2,x,2024-01-10
u9,a,2024-01-10
"""
L2, L3 = 1 / math.log2(3), 1 / math.log2(4)  # discounts at positions 2 and 3


@pytest.fixture
def split(tmp_path):
    return repeat_split(temporal_split(read_interactions(write_csv(tmp_path / "repeats.csv", REPEATS))))


def test_ground_truth_keeps_repeat_items_and_slices_them(split):
    # u1 bought a again (repeat) and c (new); u2 bought b again; x is not in I, u9 not in U;
    # u3 has no test rows and is not evaluated.
    assert split.truth == {"u1": {"a", "c"}, "u2": {"b"}}
    assert split.repeat == {"u1": {"a"}, "u2": {"b"}}
    assert split.new == {"u1": {"c"}}
    # Distinct train users: a 2, b 2, c 1, d 1; ties by item id.
    assert split.base.popularity == ["a", "b", "c", "d"]


def test_lists_allow_own_items_and_complete_from_popularity(split):
    assert complete_v2(["b", "x", "b"], split, 3) == ["b", "a", "c"]


def test_baselines_by_hand(split):
    k = 3
    popularity = evaluate_v2("popularity_v2", split, k=k)  # [a, b, c] for both users
    # u1 (G = {a, c}): hits at 1 and 3; u2 (G = {b}): hit at 2.
    ideal_u1 = 1 + L2
    assert popularity.overall["ndcg"] == pytest.approx(((1 + L3) / ideal_u1 + L2) / 2, abs=1e-12)
    assert popularity.overall["precision"] == pytest.approx((2 / 3 + 1 / 3) / 2)
    assert popularity.overall["map"] == pytest.approx(((1 + 2 / 3) / 2 + 1 / 2) / 2)
    assert popularity.overall["coverage"] == pytest.approx(3 / 4)
    assert popularity.repeat == pytest.approx(
        {"ndcg": (1 + L2) / 2, "recall": 1.0, "hr": 1.0, "precision": 1 / 3, "map": (1 + 1 / 2) / 2, "users": 2}
    )
    assert popularity.new == pytest.approx(
        {"ndcg": L3, "recall": 1.0, "hr": 1.0, "precision": 1 / 3, "map": 1 / 3, "users": 1}
    )
    # repeat_frequency: u1 a (2 rows) before b (1 row), then c; u2 b and c have one row each, so
    # the later one (c, Jan 4) comes first: [c, b, a].
    frequency = evaluate_v2("repeat_frequency", split, k=k)
    assert frequency.overall["ndcg"] == pytest.approx(((1 + L3) / ideal_u1 + L2) / 2, abs=1e-12)
    # repeat_recency: u1 b (Jan 3) before a (Jan 2): [b, a, c]; u2 as above.
    recency = evaluate_v2("repeat_recency", split, k=k)
    assert recency.overall["ndcg"] == pytest.approx(((L2 + L3) / ideal_u1 + L2) / 2, abs=1e-12)
    assert recency.repeat["ndcg"] == pytest.approx((L2 + L2) / 2, abs=1e-12)
    assert frequency.repeat["ndcg"] == pytest.approx((1 + L2) / 2, abs=1e-12)
    assert recency.new["ndcg"] == frequency.new["ndcg"] == pytest.approx(L3, abs=1e-12)
    assert recency.overall["coverage"] == pytest.approx(3 / 4)


def test_last_ties_fall_back_to_item_id(split):
    # (item, train rows, latest timestamp): a and b tie on both keys.
    split = replace(split, history={"u": [("b", 1, 5.0), ("c", 2, 1.0), ("a", 1, 5.0)]})
    assert BASELINES["repeat_frequency"](split, "u") == ["c", "a", "b"]
    assert BASELINES["repeat_recency"](split, "u") == ["a", "b", "c"]


def test_a_v1_model_is_completed_with_own_items(split):
    # Popularity of v1 skips u1's own a and b: [c, d], then popularity_v2 adds a.
    result = evaluate_v2(PopularityRecommender(), split, k=3)
    # u1 [c, d, a]: hits at 1 and 3; u2 owns b and c, so v1 lists [a, d], then b: hit at 3.
    assert result.overall["ndcg"] == pytest.approx(((1 + L3) / (1 + L2) + L3) / 2, abs=1e-12)
    assert result.new["ndcg"] == pytest.approx(1.0)


def test_command_json_layout(tmp_path):
    data = write_csv(tmp_path / "repeats.csv", REPEATS)
    out = tmp_path / "out.json"
    call_command(
        "promotions_evaluate", str(data), "--protocol", "v2", "--k", "3", "--models",
        "popularity,popularity_v2,repeat_frequency,repeat_recency", "--json", str(out),
    )  # fmt: skip
    document = json.loads(out.read_text())
    assert document["protocol"] == "temporal-v2"
    assert document["split"] == {
        "train_rows": 7,
        "test_rows": 5,
        "train_users": 3,
        "users": 2,
        "items": 4,
        "repeat_users": 2,
        "new_users": 1,
    }
    assert set(document["models"]) == {"popularity", "popularity_v2", "repeat_frequency", "repeat_recency"}
    for figures in document["models"].values():
        assert set(figures["overall"]) == {"ndcg", "recall", "hr", "precision", "map", "coverage", "users"}
        assert set(figures["repeat"]) == set(figures["new"]) == {"ndcg", "recall", "hr", "precision", "map", "users"}
    assert document["models"]["repeat_recency"]["repeat"]["ndcg"] == pytest.approx(1 / math.log2(3))


def test_command_all_includes_the_baselines_only_under_v2(tmp_path):
    data = write_csv(tmp_path / "repeats.csv", REPEATS)
    with pytest.raises(CommandError, match="unknown model") as caught:
        call_command("promotions_evaluate", str(data), "--models", "repeat_frequency")
    assert caught.value.returncode == 2
    with pytest.raises(CommandError, match="v1 only"):
        call_command("promotions_evaluate", str(data), "--protocol", "v2", "--tune")
    assert model_names("all", known_models("v2")) == [*MODELS, *REPEAT_MODELS, *BASELINES]
    assert model_names("all", known_models("v1")) == list(MODELS)
    out = tmp_path / "out.json"
    call_command(
        "promotions_evaluate", str(data), "--protocol", "v2", "--models", "popularity_v2", "--compare",
        "popularity_v2,repeat_frequency", "--resamples", "50", "--json", str(out),
    )  # fmt: skip
    document = json.loads(out.read_text())
    assert set(document["models"]) == {"popularity_v2", "repeat_frequency"}
    comparison = document["comparison"]
    assert comparison["users"] == 2
    assert comparison["mean_b"] == pytest.approx(document["models"]["repeat_frequency"]["overall"]["ndcg"])


def _direct_v2(path):
    """The v2 text implemented directly (csv rows, dicts and sorts) for the 1e-9 check."""
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = [name.strip().lower() for name in next(reader)]
        u, i, t = header.index("user_id"), header.index("item_id"), header.index("timestamp")
        rows = []
        for row in reader:
            moment = datetime.fromisoformat(row[t].strip())
            moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
            rows.append((row[u], row[i], moment.timestamp()))
    stamps = sorted(row[2] for row in rows)
    t_cut = stamps[math.floor(0.8 * len(stamps))]
    train = [row for row in rows if row[2] < t_cut]
    users_of, count, last = defaultdict(set), defaultdict(int), {}
    own = defaultdict(set)
    for user, item, stamp in train:
        users_of[item].add(user)
        own[user].add(item)
        count[user, item] += 1
        last[user, item] = max(last.get((user, item), stamp), stamp)
    popular = sorted(users_of, key=lambda item: (-len(users_of[item]), item))
    truth = defaultdict(set)
    for user, item, stamp in rows:
        if stamp >= t_cut and user in own and item in users_of:
            truth[user].add(item)
    orders = {
        "popularity_v2": lambda user: [],
        "repeat_frequency": lambda user: sorted(own[user], key=lambda x: (-count[user, x], -last[user, x], x)),
        "repeat_recency": lambda user: sorted(own[user], key=lambda x: (-last[user, x], -count[user, x], x)),
    }
    figures = {}
    for name, order in orders.items():
        slices = {"overall": [], "repeat": [], "new": []}
        for user, items in truth.items():
            ranked = list(dict.fromkeys(order(user) + popular))[:10]
            for slice_name, truth_items in (
                ("overall", items), ("repeat", items & own[user]), ("new", items - own[user]),
            ):  # fmt: skip
                if truth_items:
                    gain = sum(1 / math.log2(p + 2) for p, x in enumerate(ranked) if x in truth_items)
                    ideal = sum(1 / math.log2(p + 2) for p in range(min(len(truth_items), 10)))
                    hits = len(truth_items.intersection(ranked))
                    slices[slice_name].append((gain / ideal, hits / len(truth_items), hits / 10))
        figures[name] = {
            key: dict(
                zip(("ndcg", "recall", "precision"), (sum(v) / len(v) for v in zip(*rows, strict=True)), strict=True)
            )
            for key, rows in slices.items()
        }
    return figures


@pytest.mark.data
def test_reference_baselines_on_online_retail(datasets_dir):
    path = datasets_dir / "online-retail" / "interactions.csv.gz"
    split = repeat_split(temporal_split(read_interactions(path)))
    assert (len(split.truth), len(split.repeat), len(split.new)) == (1_517, 1_407, 1_420)
    results = {name: evaluate_v2(name, split) for name in BASELINES}
    # The figures (4 decimals), then a direct implementation of the text to 1e-9.
    assert results["repeat_frequency"].overall["ndcg"] == pytest.approx(0.3205, abs=5e-5)
    assert results["repeat_frequency"].repeat["ndcg"] == pytest.approx(0.4115, abs=5e-5)
    assert results["repeat_frequency"].new["ndcg"] == pytest.approx(0.0008, abs=5e-5)
    assert results["popularity_v2"].overall["ndcg"] == pytest.approx(0.0863, abs=5e-5)
    # Version 1's ground truth is the new slice: a v1 model scores its v1 reference figure there.
    assert evaluate_v2(PopularityRecommender(), split).new["ndcg"] == pytest.approx(0.0379162, abs=5e-8)
    for name, direct in _direct_v2(path).items():
        for slice_name, metrics in direct.items():
            for metric, value in metrics.items():
                got = getattr(results[name], slice_name)[metric]
                assert got == pytest.approx(value, abs=1e-9), (name, slice_name, metric)
