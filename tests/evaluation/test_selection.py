"""The selection rule training and the rolling evaluation share: baselines stay unless beaten on
average and on the most recent window; freshness is kept only where the windows agree."""

import numpy as np
import pytest

from promotions.evaluation.data import InteractionLog
from promotions.evaluation.selection import choose, select, shrunk_choice, tune_freshness
from promotions.evaluation.split import temporal_split
from promotions.recommenders import HybridRecommender, Interactions


def figures(mean: float, latest: float) -> dict:
    return {"ndcg": mean, "latest": latest}


def test_a_model_that_wins_on_average_but_loses_on_the_latest_window_is_not_activated():
    candidates = {
        "popularity": figures(0.10, 0.10),
        "trending": figures(0.12, 0.15),
        "hybrid": figures(0.20, 0.14),  # far better on average, below trending on the latest window
    }
    assert choose(candidates)[0] == "trending"  # the better baseline on average stays
    candidates["hybrid"] = figures(0.20, 0.16)
    name, why = choose(candidates)
    assert name == "hybrid" and "most recent" in why


def test_a_model_must_beat_every_baseline_and_ties_keep_the_baseline():
    assert choose({"popularity": figures(0.3, 0.3), "ease": figures(0.3, 0.4)})[0] == "popularity"
    assert choose({"popularity": figures(0.3, 0.1), "ease": figures(0.4, 0.2)})[0] == "ease"
    # Among models that beat the baselines the best on average wins; the first one on ties.
    pool = {"popularity": figures(0.1, 0.1), "item_knn": figures(0.3, 0.2), "ease": figures(0.3, 0.5)}
    assert choose(pool)[0] == "item_knn"
    # Figures without a latest window (older records) count their mean as the latest.
    assert choose({"popularity": {"ndcg": 0.2}, "ease": {"ndcg": 0.25}})[0] == "ease"


def test_freshness_is_shrunk_to_none_when_the_windows_disagree():
    # 1.0 gains more on average (0.0133) but loses in one window: its mean less one SE is negative.
    gains = {0.5: [0.010, 0.012, 0.011], 1.0: [0.05, -0.04, 0.03]}
    assert shrunk_choice(gains) == 0.5
    # se(1.0) = sd / sqrt(3) with sd = sqrt(((.0367)^2 + (.0533)^2 + (.0167)^2) / 2) = 0.0473
    assert np.mean(gains[1.0]) - np.std(gains[1.0], ddof=1) / np.sqrt(3) < 0
    assert shrunk_choice({0.5: [0.02, -0.02, 0.01], 1.0: [0.05, -0.06, 0.02]}) == 0.0
    assert shrunk_choice({0.5: [0.01, 0.02, 0.03], 1.0: [0.03, 0.04, 0.05]}) == 1.0
    assert shrunk_choice({1.0: [0.5]}) == 0.0  # one window: no spread to judge, none
    assert shrunk_choice({0.5: [-0.01, -0.02]}) == 0.0


def seasonal_rows():
    """Two groups of items; people who touch a group's first item go on to its others."""
    rows = []
    for person in range(60):
        group = "a" if person % 2 else "b"
        for step in range(4):
            rows.append(
                (f"p{person}", f"{group}{(person // 2 + step) % 6}", 1_700_000_000 + step * 864_000 + person * 60)
            )
    return rows


def seasonal_log():
    return Interactions.from_rows(seasonal_rows())


def test_a_new_strength_on_one_fit_equals_a_fit_with_that_strength():
    interactions = seasonal_log()
    refreshed = HybridRecommender(freshness=0.0).fit(interactions).with_freshness(2.0)
    direct = HybridRecommender(freshness=2.0).fit(interactions)
    for history in (["a1"], ["b2", "b3"], []):
        mine = [(r.item_id, round(r.score, 12)) for r in refreshed.recommend(history=history, k=5)]
        assert mine == [(r.item_id, round(r.score, 12)) for r in direct.recommend(history=history, k=5)]


def test_tuning_reports_each_strength_per_window_and_select_uses_it():
    users, items, stamps = zip(*seasonal_rows(), strict=True)
    log = InteractionLog(users, items, stamps)
    windows = [w for w in (temporal_split(log, f) for f in (0.6, 0.7, 0.8)) if w.truth]
    tuned = tune_freshness("hybrid", windows, k=5)
    assert set(tuned.freshness_gains) == {"0.0", "0.5", "1.0"}
    assert tuned.freshness_gains["0.0"] == [0.0] * len(windows)
    expected = shrunk_choice({float(s): g for s, g in tuned.freshness_gains.items() if s != "0.0"})
    assert tuned.params == {"freshness": expected} and len(tuned.ndcg) == len(windows)
    name, params, scores = select(["popularity", "hybrid"], windows, k=5)
    assert set(scores) == {"popularity", "hybrid"} and scores["hybrid"].params == tuned.params
    assert name == choose({n: s.as_figures() for n, s in scores.items()})[0]
    assert params == scores[name].params


@pytest.mark.parametrize("strength", [0.0, 1.0])
def test_freshness_zero_leaves_scores_unchanged(strength):
    model = HybridRecommender(freshness=1.0).fit(seasonal_log())
    model.with_freshness(strength)
    assert np.all(model.fresh == (1.0 if strength == 0.0 else model.share))
