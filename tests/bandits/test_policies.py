"""Epsilon-greedy and fixed split, and every policy in simulation: convergence to the best arm."""

from collections import Counter

import numpy as np
import pytest

from benchmarks.simulations.bandits import simulate
from promotions.bandits import Arm, ArmStats, EpsilonGreedy, FixedSplit, ThompsonSampling

# Bootstrapped rewards: 100 logged visitors per arm with 4%, 6% and 9% conversion.
SYNTHETIC = {
    "a": np.r_[np.ones(4), np.zeros(96)],
    "b": np.r_[np.ones(6), np.zeros(94)],
    "c": np.r_[np.ones(9), np.zeros(91)],
}


def frequencies(policy, arms, seed, visitors=20_000) -> dict[str, float]:
    rng = np.random.default_rng(seed)
    counts = Counter(policy.sample(arms, rng).key for _ in range(visitors))
    return {arm.key: counts[arm.key] / visitors for arm in arms}


def test_epsilon_greedy_allocation_and_sampling_agree():
    arms = [Arm("a", ArmStats(100, 5)), Arm("b", ArmStats(100, 9)), Arm("c", ArmStats(100, 2))]
    policy = EpsilonGreedy(0.3)
    shares = policy.allocation(arms, np.random.default_rng(0))
    assert shares == pytest.approx({"a": 0.1, "b": 0.8, "c": 0.1})
    assert frequencies(policy, arms, seed=1) == pytest.approx(shares, abs=0.015)


def test_epsilon_greedy_tries_arms_without_visitors_first_and_honours_the_minimum_share():
    arms = [Arm("a", ArmStats(100, 5)), Arm("new")]
    assert EpsilonGreedy(0.0).allocation(arms, np.random.default_rng(0)) == {"a": 0.0, "new": 1.0}
    assert EpsilonGreedy(0.0, min_share=0.1).allocation(arms, np.random.default_rng(0)) == pytest.approx(
        {"a": 0.1, "new": 0.9}
    )
    with pytest.raises(ValueError):
        EpsilonGreedy(1.5)


def test_fixed_split_follows_its_weights_among_active_arms():
    arms = [Arm("a"), Arm("b"), Arm("c", active=False)]
    policy = FixedSplit({"a": 3, "b": 1, "c": 1})
    assert policy.allocation(arms, np.random.default_rng(0)) == pytest.approx({"a": 0.75, "b": 0.25, "c": 0})
    assert frequencies(policy, arms, seed=2) == pytest.approx({"a": 0.75, "b": 0.25, "c": 0}, abs=0.015)
    assert FixedSplit().allocation(arms, np.random.default_rng(0)) == pytest.approx({"a": 0.5, "b": 0.5, "c": 0})


@pytest.mark.parametrize("reweight_every", [None, 250])
def test_thompson_share_converges_to_the_best_arm(reweight_every):
    run = simulate(
        ThompsonSampling(), SYNTHETIC, 8_000, np.random.default_rng(1), np.random.default_rng(2), reweight_every
    )
    first, last = run.choices[:300], run.choices[-2_000:]
    best = run.keys.index("c")
    assert (last == best).mean() > 0.85
    assert (first == best).mean() < (last == best).mean() - 0.2
    assert run.best_share > 0.7


def test_regret_is_the_sum_of_the_gaps_of_the_chosen_arms():
    run = simulate(FixedSplit(), SYNTHETIC, 3_000, np.random.default_rng(3), np.random.default_rng(4))
    counts = np.bincount(run.choices, minlength=3)
    assert run.regret == pytest.approx(counts[0] * 0.05 + counts[1] * 0.03)
    assert run.best_share == pytest.approx(counts[2] / 3_000)
    assert 0.3 < run.best_share < 0.37


def test_thompson_has_less_than_half_the_regret_of_a_fixed_split():
    def regret(policy):
        runs = [simulate(policy, SYNTHETIC, 5_000, *np.random.default_rng(seed).spawn(2)) for seed in range(4)]
        return np.mean([run.regret for run in runs])

    assert regret(ThompsonSampling()) < 0.5 * regret(FixedSplit())


def test_re_weighted_runs_log_the_propensity_of_each_visitors_arm():
    run = simulate(
        ThompsonSampling(min_share=0.05, burn_in=1, draws=2_000),
        SYNTHETIC,
        2_000,
        np.random.default_rng(5),
        np.random.default_rng(6),
        reweight_every=500,
    )
    assert np.all(run.propensities[:500] == pytest.approx(1 / 3))  # burn-in: equal shares
    assert run.propensities.min() >= 0.05 - 1e-12
    assert set(np.unique(run.rewards)) <= {0.0, 1.0}
    per_visitor = simulate(ThompsonSampling(), SYNTHETIC, 100, np.random.default_rng(5), np.random.default_rng(6))
    assert np.isnan(per_visitor.propensities).all()


def test_thompson_on_rare_large_revenue_does_not_lock_onto_the_first_arm_that_sells():
    # Revenue per visitor as in a shop: 1 visitor in 100 buys for about 100, the rest spend nothing.
    # An arm whose first visitors bought nothing must keep a plausible spread, or it is starved.
    spend = {
        "a": np.r_[np.full(10, 100.0), np.zeros(990)],
        "b": np.r_[np.full(15, 100.0), np.zeros(985)],
        "c": np.r_[np.full(6, 100.0), np.zeros(994)],
    }
    for seed in range(3):
        run = simulate(ThompsonSampling("revenue"), spend, 12_000, *np.random.default_rng(seed).spawn(2))
        assert (run.choices[-3_000:] == run.keys.index("b")).mean() > 0.6
