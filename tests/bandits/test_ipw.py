"""Inverse-propensity-weighted estimates: hand-computed values, and unbiased where plain means are not."""

import math

import numpy as np
import pytest

from promotions.bandits import ipw_estimates


def test_estimates_equal_hand_computed_values():
    estimates = ipw_estimates(["a", "b", "a", "b"], [1, 0, 0, 1], [0.5, 0.5, 0.25, 0.75])
    a, b = estimates["a"], estimates["b"]
    assert (a.visitors, b.visitors) == (2, 2)
    assert a.naive.mean == b.naive.mean == 0.5
    # Arm a: weights 1/p = 2 and 4 on its rows, 0 elsewhere; weighted rewards 2, 0, 0, 0.
    assert a.ipw.mean == pytest.approx(2 / 4)
    assert a.ipw.standard_error == pytest.approx(np.std([2, 0, 0, 0], ddof=1) / 2)
    assert a.self_normalized.mean == pytest.approx(2 / 6)
    assert a.self_normalized.standard_error == pytest.approx(math.sqrt(4 * (2 / 3) ** 2 + 16 * (1 / 3) ** 2) / 6)
    # Arm b: weights 2 and 4/3; weighted rewards 0, 0, 0, 4/3.
    assert b.ipw.mean == pytest.approx((4 / 3) / 4)
    assert b.self_normalized.mean == pytest.approx((4 / 3) / (10 / 3))
    assert a.ipw.low == pytest.approx(0.5 - 1.959964 * a.ipw.standard_error)
    assert a.ipw.high == pytest.approx(0.5 + 1.959964 * a.ipw.standard_error)


def test_with_constant_propensities_ipw_and_plain_means_agree_on_the_self_normalized_one():
    rng = np.random.default_rng(0)
    arms = rng.choice(["a", "b"], size=1_000)
    rewards = rng.random(1_000) < 0.3
    estimates = ipw_estimates(arms, rewards, np.full(1_000, 0.5))
    for key in ("a", "b"):
        assert estimates[key].self_normalized.mean == pytest.approx(estimates[key].naive.mean)


@pytest.mark.parametrize(
    ("arms", "rewards", "propensities", "message"),
    [
        (["a", "b"], [1, 0], [0.5], "one value per visitor"),
        (["a"], [1], [0.5], "two visitors"),
        (["a", "b"], [1, np.nan], [0.5, 0.5], "finite"),
        (["a", "b"], [1, 0], [0.5, 0.0], "above 0"),
        (["a", "b"], [1, 0], [0.5, 1.5], "above 0"),
    ],
)
def test_bad_logs_are_refused(arms, rewards, propensities, message):
    with pytest.raises(ValueError, match=message):
        ipw_estimates(arms, rewards, propensities)


def adaptive_experiment(rng, runs, batches, batch_size, rate):
    """Two arms with the same conversion rate; each batch gives 90% of visitors to the arm ahead so far.

    The shares are the propensities, as a bandit re-weighted by a periodic task logs them.
    """
    visitors = np.zeros((runs, 2))
    conversions = np.zeros((runs, 2))
    logs = []
    for _ in range(batches):
        with np.errstate(invalid="ignore"):
            means = np.where(visitors > 0, conversions / np.maximum(visitors, 1), 1.0)
        share_second = np.where(means[:, 1] > means[:, 0], 0.9, np.where(means[:, 1] < means[:, 0], 0.1, 0.5))
        second = rng.random((runs, batch_size)) < share_second[:, None]
        converted = rng.random((runs, batch_size)) < rate
        propensity = np.where(second, share_second[:, None], 1 - share_second[:, None])
        logs.append((second, converted, propensity))
        for arm, chosen in ((0, ~second), (1, second)):
            visitors[:, arm] += chosen.sum(axis=1)
            conversions[:, arm] += (chosen & converted).sum(axis=1)
    second, converted, propensity = (np.concatenate(parts, axis=1) for parts in zip(*logs, strict=True))
    return np.where(second, "second", "first"), converted, propensity


def test_ipw_is_unbiased_where_the_plain_mean_of_bandit_data_is_biased():
    rate, runs = 0.3, 2_000
    arms, converted, propensity = adaptive_experiment(np.random.default_rng(42), runs, 30, 10, rate)
    naive, ipw, self_normalized, covered = [], [], [], []
    for run in range(runs):
        first = ipw_estimates(arms[run], converted[run], propensity[run])["first"]
        naive.append(first.naive.mean)
        ipw.append(first.ipw.mean)
        self_normalized.append(first.self_normalized.mean)
        covered.append(first.ipw.low <= rate <= first.ipw.high)

    def bias_in_standard_errors(values):
        return (np.mean(values) - rate) / (np.std(values, ddof=1) / math.sqrt(runs))

    # An arm that fell behind gets few visitors and keeps its low estimate: the plain mean is low.
    assert np.mean(naive) < rate - 0.01
    assert bias_in_standard_errors(naive) < -5
    assert abs(bias_in_standard_errors(ipw)) < 3
    assert abs(np.mean(ipw) - rate) < 0.005
    assert abs(np.mean(self_normalized) - rate) < abs(np.mean(naive) - rate)
    # The normal interval, though the visitors are not independent under a bandit, nearly keeps 95%.
    assert np.mean(covered) > 0.9
