"""Inverse propensity weighting of a targeting policy, by hand and against a known truth."""

import numpy as np
import pytest

from promotions.uplift import policy

# Six logged customers: arm given at random, its probability, outcome.
ARMS = np.array(["a", "b", "none", "a", "b", "none"])
PROPENSITIES = np.array([0.25, 0.25, 0.5, 0.25, 0.25, 0.5])
OUTCOMES = np.array([1.0, 0.0, 1.0, 0.0, 1.0, 0.0])


def test_ipw_value_by_hand():
    chosen = np.array(["a", "a", "a", "b", "b", "b"])
    # Matches: row 0 (a, y 1, p 1/4) and row 4 (b, y 1, p 1/4): (4 + 4) / 6.
    assert policy.ipw_value(ARMS, PROPENSITIES, OUTCOMES, chosen) == pytest.approx(8 / 6)
    # Self-normalized: (4 + 4) / (4 + 4), the weights of the two matched rows.
    assert policy.ipw_value(ARMS, PROPENSITIES, OUTCOMES, chosen, self_normalized=True) == pytest.approx(1.0)
    # "Nothing" matches rows 2 and 5: (2 x 1 + 2 x 0) / 6.
    assert policy.ipw_value(ARMS, PROPENSITIES, OUTCOMES, ["none"] * 6) == pytest.approx(2 / 6)


def test_bad_logs_are_refused():
    with pytest.raises(ValueError, match="propensities"):
        policy.ipw_value(ARMS, np.r_[0.0, PROPENSITIES[1:]], OUTCOMES, ARMS)
    with pytest.raises(ValueError, match="every log row"):
        policy.ipw_value(ARMS, PROPENSITIES, OUTCOMES, ARMS[:5])
    with pytest.raises(ValueError, match="baseline"):
        policy.evaluate_policies(ARMS, PROPENSITIES, OUTCOMES, {"logged": ARMS}, baseline="other")


def test_uplift_policy_picks_the_best_treatment_or_none():
    chosen = policy.uplift_policy({"a": [0.1, -0.2, 0.05, 0.0], "b": [0.2, -0.1, -0.3, 0.0]}, control="none")
    assert chosen.tolist() == ["b", "none", "a", "none"]


def test_estimates_recover_the_truth_of_a_simulated_randomized_log():
    # Three arms at 1/3 each; arm "a" lifts the rate by 0.2 for x > 0 only, "b" by 0.05 for everyone.
    rng = np.random.default_rng(5)
    n = 30_000
    x = rng.normal(size=n)
    arms = rng.choice(np.array(["none", "a", "b"]), size=n)
    rate = 0.1 + np.where(arms == "a", 0.2 * (x > 0), 0.0) + np.where(arms == "b", 0.05, 0.0)
    outcomes = (rng.random(n) < rate).astype(float)
    targeted = np.where(x > 0, "a", "b")
    estimates = policy.evaluate_policies(
        arms,
        np.full(n, 1 / 3),
        outcomes,
        {"nothing": np.full(n, "none"), "all b": np.full(n, "b"), "targeted": targeted},
        baseline="all b",
        n_bootstrap=300,
        seed=1,
    )
    truth = {"nothing": 0.1, "all b": 0.15, "targeted": 0.1 + 0.5 * 0.2 + 0.5 * 0.05}
    for name, value in truth.items():
        estimate = estimates[name]
        assert estimate.low < value < estimate.high
        assert estimate.high - estimate.low < 0.03
        assert estimate.matched == pytest.approx(n / 3, rel=0.05)
    # The paired difference is narrower than either interval and clearly positive.
    targeted_estimate = estimates["targeted"]
    assert 0 < targeted_estimate.difference_low < targeted_estimate.difference < targeted_estimate.difference_high
    assert targeted_estimate.difference == pytest.approx(targeted_estimate.value - estimates["all b"].value)
    assert estimates["all b"].difference == 0
