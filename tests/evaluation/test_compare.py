"""Offline A/B of two recommenders: the paired bootstrap, and ``promotions_evaluate --compare``."""

import json

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from promotions.evaluation import paired_bootstrap


def test_identical_models_differ_by_nothing():
    scores = np.array([0.0, 0.5, 1.0, 0.3])
    result = paired_bootstrap(scores, scores.copy(), ("x", "y"))
    assert (result.difference, result.ci_low, result.ci_high, result.p_value) == (0.0, 0.0, 0.0, 1.0)


def test_hand_computed_means_and_a_clear_win():
    a = np.array([0.1, 0.2, 0.0, 0.4] * 50)
    b = a + np.array([0.1, 0.3, 0.2, 0.0] * 50)  # mean difference (0.1 + 0.3 + 0.2 + 0) / 4 = 0.15
    result = paired_bootstrap(a, b, ("a", "b"), resamples=2000)
    assert result.mean_a == pytest.approx(0.175) and result.mean_b == pytest.approx(0.325)
    assert result.difference == pytest.approx(0.15)
    assert result.relative == pytest.approx(0.15 / 0.175)
    assert 0 < result.ci_low < 0.15 < result.ci_high
    assert result.p_value == pytest.approx(1 / 2001)  # no resample reaches 0


def test_interval_matches_the_normal_approximation_and_is_deterministic():
    rng = np.random.default_rng(5)
    a = rng.random(3000)
    b = a + rng.normal(0.01, 0.2, size=3000)
    result = paired_bootstrap(a, b, resamples=4000, seed=1)
    differences = b - a
    half_width = 1.959964 * differences.std(ddof=1) / np.sqrt(len(differences))
    assert result.ci_low == pytest.approx(differences.mean() - half_width, abs=0.1 * half_width)
    assert result.ci_high == pytest.approx(differences.mean() + half_width, abs=0.1 * half_width)
    # The p-value agrees with the paired z-test's to within bootstrap noise.
    from scipy import stats

    z = differences.mean() / (differences.std(ddof=1) / np.sqrt(len(differences)))
    assert result.p_value == pytest.approx(2 * stats.norm.sf(abs(z)), abs=0.02)
    assert paired_bootstrap(a, b, resamples=4000, seed=1) == result
    assert paired_bootstrap(a, b, resamples=4000, seed=2) != result


def test_no_difference_in_distribution_is_not_significant():
    rng = np.random.default_rng(11)
    a = rng.random(500)
    noise = rng.normal(0.0, 0.2, size=500)
    b = a + noise - noise.mean()  # differences that average exactly 0
    result = paired_bootstrap(a, b, resamples=2000)
    assert result.ci_low < 0 < result.ci_high
    assert result.p_value > 0.05


@pytest.mark.parametrize(
    ("a", "b", "kwargs", "message"),
    [
        ([0.1, 0.2], [0.1], {}, "one length"),
        ([0.1], [0.2], {}, "at least two users"),
        ([0.1, 0.2], [0.2, 0.3], {"confidence": 1.5}, "confidence"),
    ],
)
def test_bad_input(a, b, kwargs, message):
    with pytest.raises(ValueError, match=message):
        paired_bootstrap(np.array(a), np.array(b), **kwargs)


def test_command_compare_writes_the_comparison(tmp_path, tiny_csv, capsys):
    out = tmp_path / "out.json"
    call_command(
        "promotions_evaluate",
        str(tiny_csv),
        "--models",
        "popularity",
        "--compare",
        "popularity,item_knn",
        "--resamples",
        "500",
        "--json",
        str(out),
    )
    document = json.loads(out.read_text())
    models, comparison = document["models"], document["comparison"]
    assert set(models) == {"popularity", "item_knn"}  # item_knn added for the comparison
    assert (comparison["a"], comparison["b"], comparison["users"]) == ("popularity", "item_knn", 2)
    assert comparison["difference"] == pytest.approx(models["item_knn"]["ndcg"] - models["popularity"]["ndcg"])
    assert comparison["ci_low"] <= comparison["difference"] <= comparison["ci_high"]
    assert 0 < comparison["p_value"] <= 1
    assert "item_knn vs popularity on 2 users" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("value", "message"),
    [("popularity", "two different"), ("ease,ease", "two different"), ("ease,magic", "unknown model")],
)
def test_command_compare_bad_names_exit_2(tiny_csv, value, message):
    with pytest.raises(CommandError, match=message) as caught:
        call_command("promotions_evaluate", str(tiny_csv), "--compare", value)
    assert caught.value.returncode == 2
