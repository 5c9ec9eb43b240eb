"""Thompson sampling: determinism, burn-in, minimum share, switched-off arms, posterior draws."""

from collections import Counter

import numpy as np
import pytest

from promotions.bandits import Arm, ArmStats, NoActiveArmError, Prior, allocation, for_segment, posterior_draws, sample
from promotions.bandits.shares import floor_shares
from promotions.bandits.thompson import win_probabilities
from promotions.experiments.stats.inference import BetaPosterior, chance_to_beat_integrated


def measured_arms() -> list[Arm]:
    return [
        Arm("low", ArmStats(2_000, 40, 800.0, 40_000.0)),
        Arm("mid", ArmStats(2_000, 60, 1_300.0, 60_000.0)),
        Arm("high", ArmStats(2_000, 100, 2_000.0, 90_000.0)),
    ]


def choices(arms, seed, visitors=2_000, **options) -> Counter:
    rng = np.random.default_rng(seed)
    return Counter(sample(arms, rng, **options).key for _ in range(visitors))


@pytest.mark.parametrize("metric", ["conversion", "revenue"])
def test_same_seed_same_choices_and_allocation(metric):
    arms = [Arm("a", ArmStats(200, 10, 90.0, 4_000.0)), Arm("b", ArmStats(200, 12, 95.0, 4_100.0))]

    def run(seed):
        rng = np.random.default_rng(seed)
        picks = [sample(arms, rng, metric=metric).key for _ in range(200)]
        return picks, allocation(arms, 5_000, rng, metric=metric)

    assert run(7) == run(7)
    assert run(7) != run(8)


def test_sample_prefers_the_arm_that_is_clearly_best():
    assert choices(measured_arms(), seed=1)["high"] > 0.99 * 2_000


def test_burn_in_gives_equal_shares_until_every_arm_has_its_visitors():
    arms = [*measured_arms()[:2], Arm("new", ArmStats(30, 0))]
    assert allocation(arms, 1_000, np.random.default_rng(0), burn_in=100) == pytest.approx(
        {"low": 1 / 3, "mid": 1 / 3, "new": 1 / 3}
    )
    counts = choices(arms, seed=2, visitors=3_000, burn_in=100)
    assert all(900 < counts[key] < 1_100 for key in ("low", "mid", "new"))
    # Once the new arm has its 100 visitors, the clearly worse one is no longer sampled equally.
    done = [*measured_arms()[:2], Arm("new", ArmStats(100, 0))]
    assert choices(done, seed=2, visitors=3_000, burn_in=100)["new"] < 400


def test_allocation_is_floored_at_the_minimum_share_and_sums_to_one():
    shares = allocation(measured_arms(), 20_000, np.random.default_rng(0), min_share=0.1)
    assert shares["low"] == pytest.approx(0.1)
    assert shares["mid"] == pytest.approx(0.1)
    assert shares["high"] == pytest.approx(0.8)
    assert sum(shares.values()) == pytest.approx(1)


def test_sample_gives_every_arm_at_least_its_minimum_share():
    counts = choices(measured_arms(), seed=3, visitors=10_000, min_share=0.1)
    # Expected at least 1,000 each; 900 is over three standard deviations below.
    assert counts["low"] > 900
    assert counts["mid"] > 900
    assert counts["high"] > 7_500


def test_impossible_minimum_share_is_refused():
    with pytest.raises(ValueError, match="minimum share"):
        allocation(measured_arms(), 100, np.random.default_rng(0), min_share=0.4)


def test_switched_off_arm_gets_no_traffic():
    arms = measured_arms()
    arms[2] = Arm("high", arms[2].stats, active=False)  # its promotion's budget is spent
    assert "high" not in choices(arms, seed=4, min_share=0.2, burn_in=10_000)
    shares = allocation(arms, 5_000, np.random.default_rng(0), min_share=0.2)
    assert shares["high"] == 0
    assert sum(shares.values()) == pytest.approx(1)
    assert allocation(arms, 5_000, np.random.default_rng(0), burn_in=10_000) == {"low": 0.5, "mid": 0.5, "high": 0}


def test_every_arm_switched_off_raises():
    arms = [Arm("a", active=False), Arm("b", active=False)]
    with pytest.raises(NoActiveArmError):
        sample(arms, np.random.default_rng(0))
    with pytest.raises(NoActiveArmError):
        allocation(arms, 100, np.random.default_rng(0))


def test_duplicate_keys_and_unknown_metric_are_refused():
    with pytest.raises(ValueError, match="unique"):
        sample([Arm("a"), Arm("a")], np.random.default_rng(0))
    with pytest.raises(ValueError, match="unknown metric"):
        sample([Arm("a"), Arm("b")], np.random.default_rng(0), metric="clicks")


def test_conversion_draws_follow_the_beta_posterior():
    arms = [Arm("a", ArmStats(100, 10)), Arm("b", ArmStats(30, 20))]
    draws = posterior_draws(arms, np.random.default_rng(5), size=200_000)
    assert draws.shape == (200_000, 2)
    for column, (alpha, beta) in enumerate([(11, 91), (21, 11)]):
        posterior = BetaPosterior(alpha, beta)
        assert draws[:, column].mean() == pytest.approx(posterior.mean, abs=1e-3)
        variance = alpha * beta / ((alpha + beta) ** 2 * (alpha + beta + 1))
        assert draws[:, column].var() == pytest.approx(variance, rel=0.02)


def test_allocation_is_the_probability_of_being_best():
    arms = [Arm("control", ArmStats(500, 50)), Arm("treatment", ArmStats(500, 62))]
    shares = allocation(arms, 200_000, np.random.default_rng(6))
    exact = chance_to_beat_integrated(BetaPosterior(51, 451), BetaPosterior(63, 439))
    assert shares["treatment"] == pytest.approx(exact, abs=0.005)


def test_revenue_metric_follows_revenue_not_conversion():
    # "few" converts less often but each buyer spends far more: more revenue per visitor.
    arms = [Arm("many", ArmStats(2_000, 200, 4_000.0, 100_000.0)), Arm("few", ArmStats(2_000, 100, 8_000.0, 800_000.0))]
    assert choices(arms, seed=8, metric="conversion")["many"] > 1_950
    assert choices(arms, seed=8, metric="revenue")["few"] > 1_950


def test_revenue_arm_without_visitors_is_explored():
    # With the pooled prior, a new arm has the pooled mean and the spread of one visitor: wide.
    counts = choices([*measured_arms(), Arm("new")], seed=9, visitors=2_000, metric="revenue")
    assert counts["new"] > 600
    # With no revenue prior at all it has no spread yet, draws +inf and is tried first.
    arms = [*measured_arms(), Arm("new", prior=Prior())]
    assert posterior_draws(arms, np.random.default_rng(0), "revenue")[-1] == np.inf
    assert choices(arms, seed=9, visitors=50, metric="revenue") == {"new": 50}


def test_revenue_arm_whose_visitors_spent_nothing_is_still_explored():
    # Ten visitors without revenue have zero variance; the pooled prior gives them a spread.
    arms = [Arm("a", ArmStats(10, 0, 0.0, 0.0)), Arm("b", ArmStats(10, 1, 20.0, 400.0))]
    counts = choices(arms, seed=10, visitors=2_000, metric="revenue")
    assert 100 < counts["a"] < 1_900


def test_win_probabilities_split_ties_evenly():
    draws = np.array([[1.0, 1.0, 0.0], [np.inf, np.inf, np.inf], [0.0, 2.0, 1.0]])
    assert win_probabilities(draws) == pytest.approx([(0.5 + 1 / 3) / 3, (0.5 + 1 / 3 + 1) / 3, 1 / 9])


@pytest.mark.parametrize(
    ("shares", "floor", "expected"),
    [
        ([0.9, 0.08, 0.02], 0.05, [0.95 * 0.9 / 0.98, 0.95 * 0.08 / 0.98, 0.05]),  # plain floor
        ([0.96, 0.04, 0.0], 0.1, [0.8, 0.1, 0.1]),  # renormalizing pushes 0.04 under: floored too
        ([0.5, 0.5], 0.0, [0.5, 0.5]),
    ],
)
def test_floor_shares(shares, floor, expected):
    result = floor_shares(np.array(shares), floor)
    assert result == pytest.approx(expected)
    assert result.min() >= floor - 1e-12


def test_contextual_thin_segment_follows_the_overall_posterior_until_its_own_data_say_otherwise():
    overall = [Arm("a", ArmStats(10_000, 1_000)), Arm("b", ArmStats(10_000, 500))]
    thin = for_segment(overall, {"a": ArmStats(20, 1), "b": ArmStats(20, 3)}, prior_strength=200)
    assert allocation(thin, 20_000, np.random.default_rng(0))["a"] > 0.9
    # Without the borrowed prior, the same 20 visitors per arm would favour b.
    assert (
        allocation([Arm("a", ArmStats(20, 1)), Arm("b", ArmStats(20, 3))], 20_000, np.random.default_rng(0))["b"] > 0.7
    )
    measured = for_segment(overall, {"a": ArmStats(2_000, 100), "b": ArmStats(2_000, 300)}, prior_strength=200)
    assert allocation(measured, 20_000, np.random.default_rng(0))["b"] > 0.95
