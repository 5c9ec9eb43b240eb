"""Arm statistics merge like daily aggregates; posteriors equal hand-computed parameters."""

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from promotions.bandits import Arm, ArmStats, Prior, for_segment
from promotions.bandits.arms import RevenuePosterior
from promotions.bandits.thompson import conversion_posterior, pooled_revenue_prior, revenue_posterior

ROOT = Path(__file__).resolve().parents[2]


def test_daily_aggregates_merge_into_the_statistics_of_all_rows():
    rng = np.random.default_rng(3)
    converted = rng.random(300) < 0.1
    revenue = np.where(converted, rng.gamma(2.0, 20.0, 300), 0.0)
    days = np.array_split(np.arange(300), 7)
    merged = sum((ArmStats.from_outcomes(converted[day], revenue[day]) for day in days), ArmStats())
    whole = ArmStats.from_outcomes(converted, revenue)
    assert merged.visitors == whole.visitors == 300
    assert merged.conversions == whole.conversions == int(converted.sum())
    assert merged.revenue == pytest.approx(whole.revenue)
    assert merged.revenue_squares == pytest.approx(whole.revenue_squares)
    assert merged.conversion_rate == pytest.approx(converted.mean())
    assert merged.revenue_per_visitor == pytest.approx(revenue.mean())


def test_arms_merge_statistics_of_the_same_key_only():
    arm = Arm("a", ArmStats(10, 2, 30.0, 500.0)) + Arm("a", ArmStats(5, 1, 10.0, 100.0))
    assert arm.stats == ArmStats(15, 3, 40.0, 600.0)
    assert (arm + ArmStats(1, 0, 0.0, 0.0)).stats.visitors == 16
    with pytest.raises(ValueError, match="cannot merge"):
        arm + Arm("b")


def test_switched_off_arm_stays_off_when_statistics_are_added():
    assert not (Arm("a", active=False) + ArmStats(3, 1, 1.0, 1.0)).active


@pytest.mark.parametrize(
    ("visitors", "conversions", "squares"),
    [(-1, 0, 0.0), (5, 6, 0.0), (5, -1, 0.0), (5, 1, -1.0)],
)
def test_impossible_statistics_are_refused(visitors, conversions, squares):
    with pytest.raises(ValueError):
        ArmStats(visitors, conversions, 0.0, squares)


def test_conversion_posterior_is_the_conjugate_update():
    posterior = conversion_posterior(Arm("a", ArmStats(100, 10)))
    assert (posterior.alpha, posterior.beta) == (11, 91)  # uniform prior: 1 + 10, 1 + 90
    informed = conversion_posterior(Arm("a", ArmStats(100, 10), prior=Prior(alpha=10, beta=40)))
    assert (informed.alpha, informed.beta) == (20, 130)


def test_borrowed_prior_is_the_overall_posterior_scaled_to_its_strength():
    # Overall: 1,000 visitors, 198 conversions; posterior under Beta(1, 1): rate 199 / 1002.
    prior = Prior.borrowing(ArmStats(1_000, 198), strength=50)
    assert prior.alpha == pytest.approx(50 * 199 / 1002)
    assert prior.beta == pytest.approx(50 * 803 / 1002)
    # A thin segment (10 visitors, 5 conversions) moves only part of the way from 0.2 to 0.5.
    posterior = conversion_posterior(Arm("a", ArmStats(10, 5), prior=prior))
    assert posterior.alpha == pytest.approx(50 * 199 / 1002 + 5)
    assert 199 / 1002 < posterior.mean < 0.5


def test_borrowed_prior_is_never_surer_than_its_source():
    prior = Prior.borrowing(ArmStats(8, 2), strength=50)
    # The overall posterior Beta(3, 7) rests on 10 (pseudo-)visitors; the prior keeps that weight.
    assert (prior.alpha, prior.beta) == pytest.approx((3, 7))
    with pytest.raises(ValueError):
        Prior.borrowing(ArmStats(8, 2), strength=0)


def test_revenue_posterior_from_sufficient_statistics_matches_the_raw_values():
    values = np.array([0.0, 0.0, 12.5, 0.0, 40.0, 7.5, 0.0, 0.0])
    posterior = revenue_posterior(Arm("a", ArmStats.from_outcomes(values > 0, values)))
    assert posterior.mean == pytest.approx(values.mean())
    assert posterior.unit_variance == pytest.approx(values.var(ddof=1))
    assert posterior.standard_error == pytest.approx(values.std(ddof=1) / math.sqrt(len(values)))


def test_revenue_prior_counts_as_pseudo_visitors():
    values = np.array([0.0, 10.0, 0.0, 30.0])
    prior = Prior(revenue_weight=2, revenue_mean=5.0, revenue_variance=4.0)
    posterior = RevenuePosterior.of(ArmStats.from_outcomes(values > 0, values), prior)
    # By hand: n = 6, sum = 2 * 5 + 40 = 50, squares = 2 * (4 + 25) + 1000 = 1058.
    assert posterior.weight == 6
    assert posterior.mean == pytest.approx(50 / 6)
    assert posterior.unit_variance == pytest.approx((1058 - 50**2 / 6) / 5)


def test_revenue_prior_variance_can_weigh_more_than_its_mean():
    values = np.array([0.0, 10.0, 0.0, 30.0])
    prior = Prior(revenue_weight=1, revenue_mean=5.0, revenue_variance=4.0, revenue_variance_weight=10)
    posterior = RevenuePosterior.of(ArmStats.from_outcomes(values > 0, values), prior)
    # By hand: k = 1 + 4, mean (5 + 40) / 5; own squared deviations 600, shift 1 * 4 / 5 * (10 - 5)^2.
    assert posterior.weight == 5
    assert posterior.mean == pytest.approx(9)
    assert posterior.unit_variance == pytest.approx((10 * 4 + 600 + 20) / (10 + 4 - 1))
    assert posterior.standard_error == pytest.approx(math.sqrt(660 / 13 / 5))


def test_revenue_posterior_without_two_visitors_has_no_spread():
    assert RevenuePosterior.of(ArmStats(1, 1, 5.0, 25.0), Prior()).standard_error == math.inf


def test_pooled_revenue_prior_has_the_pooled_mean_and_variance():
    arms = [Arm("a", ArmStats(2, 1, 10.0, 100.0)), Arm("b", ArmStats(2, 1, 30.0, 900.0))]
    prior = pooled_revenue_prior(arms)
    values = np.array([10.0, 0.0, 30.0, 0.0])
    assert prior.revenue_weight == 1  # the mean: one pseudo-visitor
    assert prior.revenue_variance_weight == 2  # the variance: an average arm's visitors
    assert prior.revenue_mean == pytest.approx(values.mean())
    assert prior.revenue_variance == pytest.approx(values.var(ddof=1))


def test_segment_arms_take_the_segment_statistics_and_borrow_from_the_overall_posterior():
    arms = [Arm("a", ArmStats(2_000, 400)), Arm("b", ArmStats(2_000, 100), active=False)]
    segment = for_segment(arms, {"a": ArmStats(20, 1)}, prior_strength=100)
    assert [arm.key for arm in segment] == ["a", "b"]
    assert segment[0].stats == ArmStats(20, 1)
    assert segment[1].stats == ArmStats()
    assert not segment[1].active
    overall_rate = 401 / 2002
    assert segment[0].prior.alpha == pytest.approx(100 * overall_rate)
    # The segment without data has exactly the overall posterior mean.
    assert conversion_posterior(segment[1]).mean == pytest.approx(101 / 2002)


def test_package_imports_without_django():
    # Blocking django makes any import of it fail: the bandits must stay pure numpy/scipy.
    code = (
        "import sys; sys.modules['django'] = None\n"
        "import promotions.bandits, benchmarks.simulations.bandits\n"
        "assert not any(name.split('.')[0] == 'django' for name in sys.modules if sys.modules[name])"
    )
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, timeout=60, cwd=ROOT)
