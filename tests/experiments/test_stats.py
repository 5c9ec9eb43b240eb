"""The statistics engine against hand-computed values, scipy/statsmodels and its own invariants."""

import ast
import math
from pathlib import Path

import numpy as np
import pytest
from scipy import stats as scipy_stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import confint_proportions_2indep

from promotions.experiments.stats import inference as stats

CONTROL = stats.ProportionStats(n=5000, successes=100)  # 2.00 %
TREATMENT = stats.ProportionStats(n=5000, successes=112)  # 2.24 %


def test_proportion_stats_mean_and_bernoulli_variance():
    assert CONTROL.mean == pytest.approx(0.02)
    assert CONTROL.variance == pytest.approx(0.02 * 0.98)


def test_two_proportion_z_test_pools_for_z_and_not_for_the_interval():
    result = stats.two_proportion_z_test(CONTROL, TREATMENT)
    # Pooled rate 212 / 10000 = 0.0212: SE = sqrt(0.0212 * 0.9788 * 2 / 5000) = 0.00288101.
    assert result.statistic == pytest.approx(0.0024 / 0.0028810109336828, rel=1e-12)
    assert result.p_value == pytest.approx(math.erfc(0.8330409204424827 / math.sqrt(2)), rel=1e-12)
    # Unpooled SE = sqrt(0.02 * 0.98 / 5000 + 0.0224 * 0.9776 / 5000) = 0.00288091; times 1.959964.
    assert result.abs_lift == pytest.approx(0.0024)
    assert result.ci_low == pytest.approx(0.0024 - 0.005646481738061, abs=1e-12)
    assert result.ci_high == pytest.approx(0.0024 + 0.005646481738061, abs=1e-12)


def test_relative_lift_interval_is_the_log_ratio_interval():
    result = stats.two_proportion_z_test(CONTROL, TREATMENT)
    # Var(log t - log c) ~ (1 - t) / (n t) + (1 - c) / (n c) for rates; exp of log(1.12) +- z se.
    se = math.sqrt(0.9776 / (5000 * 0.0224) + 0.98 / (5000 * 0.02))
    z = scipy_stats.norm.ppf(0.975)
    assert result.rel_lift == pytest.approx(0.12)
    assert result.rel_ci_low == pytest.approx(1.12 * math.exp(-z * se) - 1, abs=1e-12)
    assert result.rel_ci_high == pytest.approx(1.12 * math.exp(z * se) - 1, abs=1e-12)
    # The same interval as statsmodels' Wald interval on the log of the ratio of two proportions.
    low, high = confint_proportions_2indep(112, 5000, 100, 5000, method="log", compare="ratio", alpha=0.05)
    assert (result.rel_ci_low, result.rel_ci_high) == pytest.approx((low - 1, high - 1), abs=1e-12)


def test_relative_lift_interval_never_reaches_below_minus_100_percent():
    # Few conversions: the delta method on the ratio itself gave about [-143 %, +88 %] here.
    control, treatment = stats.ProportionStats(60, 6), stats.ProportionStats(60, 4)
    ratio = 4 / 6
    delta_se = math.sqrt(0.0667 * 0.9333 / 60 / 0.01 + ratio**2 * 0.1 * 0.9 / 60 / 0.01)
    assert ratio - 1 - 1.96 * delta_se < -1  # the plain delta-method interval leaves the scale
    for test in (stats.two_proportion_z_test, stats.sequential_test):
        result = test(control, treatment)
        assert -1 < result.rel_ci_low < result.rel_lift < result.rel_ci_high
        # Asymmetric as a ratio is: further above the estimate than below it.
        assert result.rel_ci_high - result.rel_lift > result.rel_lift - result.rel_ci_low
    revenue = stats.bayesian_means(stats.MeanStats.from_values([0, 0, 5, 40]), stats.MeanStats.from_values([0, 1, 2]))
    assert revenue.rel_ci_low > -1


def test_welch_relative_interval_is_the_log_ratio_interval_with_the_welch_quantile():
    control, treatment = [1.0, 2.0, 3.0, 4.0], [2.0, 4.0, 6.0, 8.0, 10.0]
    result = stats.welch_t_test(stats.MeanStats.from_values(control), stats.MeanStats.from_values(treatment))
    df = (29 / 12) ** 2 / ((5 / 12) ** 2 / 3 + 1)
    # log-ratio variance: var_t / (n_t mean_t^2) + var_c / (n_c mean_c^2) = 10 / (5 * 36) + (5/3) / (4 * 6.25)
    se = math.sqrt(10 / 180 + (5 / 3) / 25)
    t = scipy_stats.t.ppf(0.975, df)
    assert (result.rel_ci_low, result.rel_ci_high) == pytest.approx(
        (2.4 * math.exp(-t * se) - 1, 2.4 * math.exp(t * se) - 1), abs=1e-12
    )


def test_a_metric_that_is_not_positive_keeps_the_delta_method_interval():
    control = stats.AdjustedMean(n=100, mean=-2.0, variance=4.0)
    treatment = stats.AdjustedMean(n=100, mean=1.0, variance=4.0)
    low, high = stats.relative_lift_interval(control, treatment, 1.96)
    se = math.sqrt(4 / 100 + (1 / -2) ** 2 * 4 / 100) / 2
    assert (low, high) == pytest.approx((-1.5 - 1.96 * se, -1.5 + 1.96 * se), abs=1e-12)


@pytest.mark.parametrize(("rate", "true_lift"), [(0.05, 0.0), (0.05, 0.2), (0.01, 0.3)])
def test_log_ratio_interval_covers_the_true_lift_95_percent_of_the_time(rate, true_lift):
    """Simulated experiments (A/A and with a real lift): the interval holds the true relative lift in
    about 95 % of them. 20,000 experiments: the binomial standard error of 95 % is 0.15 points."""
    rng = np.random.default_rng(20261206)
    experiments, n = 20_000, 4_000
    control = stats.ProportionStats(np.full(experiments, n), rng.binomial(n, rate, experiments))
    treatment = stats.ProportionStats(np.full(experiments, n), rng.binomial(n, rate * (1 + true_lift), experiments))
    result = stats.two_proportion_z_test(control, treatment)
    covered = (result.rel_ci_low <= true_lift) & (true_lift <= result.rel_ci_high)
    assert 0.94 <= covered.mean() <= 0.96
    assert (result.rel_ci_low > -1).all()


def test_welch_t_test_matches_hand_computation_and_scipy():
    control, treatment = [1.0, 2.0, 3.0, 4.0], [2.0, 4.0, 6.0, 8.0, 10.0]
    result = stats.welch_t_test(stats.MeanStats.from_values(control), stats.MeanStats.from_values(treatment))
    # Variances 5/3 and 10; SE^2 = 5/12 + 2 = 29/12; df = (29/12)^2 / ((5/12)^2 / 3 + 2^2 / 4).
    se = math.sqrt(29 / 12)
    df = (29 / 12) ** 2 / ((5 / 12) ** 2 / 3 + 1)
    assert result.statistic == pytest.approx(3.5 / se, rel=1e-12)
    assert stats.welch_degrees_of_freedom(
        stats.MeanStats.from_values(control), stats.MeanStats.from_values(treatment)
    ) == pytest.approx(df, rel=1e-12)
    assert result.p_value == pytest.approx(scipy_stats.ttest_ind(treatment, control, equal_var=False).pvalue, rel=1e-10)
    assert result.ci_high - result.abs_lift == pytest.approx(scipy_stats.t.ppf(0.975, df) * se, rel=1e-10)


def test_mean_stats_variance_is_the_sample_variance():
    values = [3.0, 7.0, 7.0, 19.0]
    summary = stats.MeanStats.from_values(values)
    assert (summary.n, summary.mean) == (4, 9.0)
    assert summary.variance == pytest.approx(np.var(values, ddof=1))


# --- additivity -----------------------------------------------------------------------------------


def _daily_parts(values: np.ndarray, days: int = 7) -> list[np.ndarray]:
    return np.array_split(values, days)


def test_daily_proportion_aggregates_merge_into_the_whole():
    rng = np.random.default_rng(1)
    outcomes = rng.random(7_000) < 0.03
    daily = [stats.ProportionStats(len(part), int(part.sum())) for part in _daily_parts(outcomes)]
    assert sum(daily[1:], daily[0]) == stats.ProportionStats(7_000, int(outcomes.sum()))


def test_daily_mean_and_covariate_aggregates_merge_into_the_whole():
    rng = np.random.default_rng(2)
    y, x = rng.exponential(3.0, 5_000), rng.normal(10.0, 2.0, 5_000)
    daily_means = [stats.MeanStats.from_values(part) for part in _daily_parts(y)]
    merged_means = sum(daily_means[1:], daily_means[0])
    whole = stats.MeanStats.from_values(y)
    assert (merged_means.n, merged_means.mean, merged_means.variance) == pytest.approx(
        (whole.n, whole.mean, whole.variance), rel=1e-12
    )
    daily = [stats.CovariateStats.from_values(ys, xs) for ys, xs in zip(_daily_parts(y), _daily_parts(x), strict=True)]
    merged = sum(daily[1:], daily[0])
    whole_covariate = stats.CovariateStats.from_values(y, x)
    assert merged.covariance == pytest.approx(np.cov(x, y, ddof=1)[0, 1], rel=1e-10)
    assert merged.covariance == pytest.approx(whole_covariate.covariance, rel=1e-10)


def test_tests_broadcast_over_arrays_of_experiments():
    control = stats.ProportionStats(np.array([5000, 4000]), np.array([100, 90]))
    treatment = stats.ProportionStats(np.array([5000, 4100]), np.array([112, 70]))
    vectorised = stats.two_proportion_z_test(control, treatment).p_value
    second = stats.two_proportion_z_test(stats.ProportionStats(4000, 90), stats.ProportionStats(4100, 70)).p_value
    assert vectorised == pytest.approx([stats.two_proportion_z_test(CONTROL, TREATMENT).p_value, second])


# --- CUPED ----------------------------------------------------------------------------------------


def _cuped_arms(seed: int = 3):
    rng = np.random.default_rng(seed)
    x_c, x_t = rng.normal(50, 10, 4_000), rng.normal(50, 10, 4_000)
    y_c = 0.8 * x_c + rng.normal(0, 4, 4_000)
    y_t = 0.8 * x_t + 1.0 + rng.normal(0, 4, 4_000)
    return x_c, y_c, x_t, y_t


def test_cuped_adjustment_equals_the_raw_data_computation():
    x_c, y_c, x_t, y_t = _cuped_arms()
    control, treatment = stats.CovariateStats.from_values(y_c, x_c), stats.CovariateStats.from_values(y_t, x_t)
    x_all, y_all = np.concatenate([x_c, x_t]), np.concatenate([y_c, y_t])
    theta = np.cov(x_all, y_all, ddof=1)[0, 1] / np.var(x_all, ddof=1)
    adjusted_control, adjusted_treatment = stats.cuped_adjust(control, treatment)
    assert stats.cuped_theta(control, treatment) == pytest.approx(theta, rel=1e-10)
    assert adjusted_control.mean == pytest.approx(np.mean(y_c - theta * (x_c - x_all.mean())), rel=1e-10)
    assert adjusted_treatment.variance == pytest.approx(np.var(y_t - theta * x_t, ddof=1), rel=1e-8)


def test_cuped_shrinks_the_interval_by_the_correlation():
    x_c, y_c, x_t, y_t = _cuped_arms()
    control, treatment = stats.CovariateStats.from_values(y_c, x_c), stats.CovariateStats.from_values(y_t, x_t)
    plain = stats.welch_t_test(control.outcome, treatment.outcome)
    adjusted = stats.welch_t_test(*stats.cuped_adjust(control, treatment))
    correlation = np.corrcoef(np.concatenate([x_c, x_t]), np.concatenate([y_c, y_t]))[0, 1]
    width_ratio = (adjusted.ci_high - adjusted.ci_low) / (plain.ci_high - plain.ci_low)
    assert width_ratio == pytest.approx(math.sqrt(1 - correlation**2), rel=0.02)
    assert adjusted.ci_low < 1.0 < adjusted.ci_high


# --- sequential -----------------------------------------------------------------------------------


def test_mixture_rho_follows_howard_et_al():
    # (-2 ln 0.05 + ln(-2 ln 0.05 + 1)) / 5000 = (5.991465 + 1.944691) / 5000.
    assert stats.mixture_rho_squared(0.05, 5_000) == pytest.approx(0.001587230920347513, rel=1e-12)


def test_sequential_interval_at_the_tuning_size_is_3_04_standard_errors_wide():
    control, treatment = stats.ProportionStats(2_500, 50), stats.ProportionStats(2_500, 60)
    result = stats.sequential_test(control, treatment, alpha=0.05, tuning=5_000)
    se = math.sqrt(0.02 * 0.98 / 2_500 + 0.024 * 0.976 / 2_500)
    # sqrt(2 (N rho2 + 1) / (N rho2) * ln(sqrt(N rho2 + 1) / alpha)) with N rho2 = 7.936155.
    assert (result.ci_high - result.ci_low) / 2 == pytest.approx(3.0352089903762534 * se, rel=1e-10)


@pytest.mark.parametrize("successes", [100, 110, 120, 125, 130, 140, 160])
def test_sequential_p_value_is_dual_to_the_confidence_sequence(successes):
    result = stats.sequential_test(stats.ProportionStats(5_000, 100), stats.ProportionStats(5_000, successes))
    excludes_zero = result.ci_low > 0 or result.ci_high < 0
    assert (result.p_value < 0.05) == excludes_zero


def test_sequential_test_is_more_conservative_than_the_fixed_horizon_test():
    fixed = stats.two_proportion_z_test(CONTROL, stats.ProportionStats(5_000, 135))
    sequential = stats.sequential_test(CONTROL, stats.ProportionStats(5_000, 135))
    assert fixed.p_value < 0.05 < sequential.p_value
    assert sequential.ci_low < fixed.ci_low
    assert stats.sequential_test(CONTROL, CONTROL).p_value == 1.0


def test_sequential_over_looks_keeps_the_smallest_p_value_and_intersects_intervals():
    looks = [(stats.ProportionStats(n, n // 50), stats.ProportionStats(n, k)) for n, k in [(2_000, 62), (4_000, 95)]]
    each = [stats.sequential_test(control, treatment) for control, treatment in looks]
    combined = stats.sequential_test_over_looks(looks)
    assert combined.p_value == min(look.p_value for look in each)
    assert combined.ci_low == max(look.ci_low for look in each)
    assert combined.ci_high == min(look.ci_high for look in each)
    assert combined.abs_lift == each[-1].abs_lift


# --- Bayesian -------------------------------------------------------------------------------------


def test_beta_posterior_credible_interval():
    uniform = stats.BetaPosterior.from_stats(stats.ProportionStats(0, 0))
    assert uniform.credible_interval(0.95) == pytest.approx((0.025, 0.975))
    # Beta(2, 1) has CDF x^2, so its quantiles are square roots.
    assert stats.BetaPosterior(2, 1).credible_interval(0.9) == pytest.approx((math.sqrt(0.05), math.sqrt(0.95)))


def test_integrated_chance_to_beat_control_of_equal_arms_is_one_half():
    posterior = stats.BetaPosterior.from_stats(CONTROL)
    assert stats.chance_to_beat_integrated(posterior, posterior) == pytest.approx(0.5, abs=1e-9)


def test_monte_carlo_bayesian_figures_are_seeded_and_close_to_integration():
    result = stats.bayesian_proportions(CONTROL, TREATMENT, seed=7)
    assert result == stats.bayesian_proportions(CONTROL, TREATMENT, seed=7)
    control, treatment = stats.BetaPosterior.from_stats(CONTROL), stats.BetaPosterior.from_stats(TREATMENT)
    assert result.chance_to_beat_control == pytest.approx(
        stats.chance_to_beat_integrated(control, treatment), abs=0.005
    )
    assert result.expected_loss == pytest.approx(stats.expected_loss_integrated(control, treatment), abs=0.005)
    assert result.ci_low < result.abs_lift < result.ci_high


def test_normal_model_for_means_is_closed_form():
    control = stats.AdjustedMean(n=100, mean=10.0, variance=12.5)
    treatment = stats.AdjustedMean(n=100, mean=11.0, variance=12.5)  # difference 1, posterior sd 0.5
    result = stats.bayesian_means(control, treatment)
    assert result.chance_to_beat_control == pytest.approx(0.9772498680518208, rel=1e-12)  # Phi(2)
    # E[max(-D, 0)] = sd * phi(mu / sd) - mu * Phi(-mu / sd) = 0.5 phi(2) - Phi(-2).
    assert result.expected_loss == pytest.approx(0.004245351308414837, rel=1e-10)
    assert (result.ci_low, result.ci_high) == pytest.approx((1 - 1.959964 * 0.5, 1 + 1.959964 * 0.5))


# --- SRM and Holm ---------------------------------------------------------------------------------


def test_sample_ratio_mismatch_by_hand():
    # Expected 5050 each: chi2 = 2 * 50^2 / 5050 = 0.990099, p = erfc(sqrt(chi2 / 2)) for 1 df.
    balanced = stats.sample_ratio_mismatch([5_000, 5_100], [50, 50])
    assert balanced.statistic == pytest.approx(0.9900990099009901)
    assert balanced.p_value == pytest.approx(math.erfc(math.sqrt(0.9900990099009901 / 2)), rel=1e-10)
    assert not balanced.flagged
    skewed = stats.sample_ratio_mismatch([5_000, 5_400], [50, 50])  # chi2 = 2 * 200^2 / 5200 = 15.38
    assert skewed.p_value == pytest.approx(8.769942375590228e-05, rel=1e-8)
    assert skewed.flagged
    assert stats.sample_ratio_mismatch([6_000, 4_000], [60, 40]).p_value == pytest.approx(1.0)


def test_holm_adjustment_by_hand_and_against_statsmodels():
    # Sorted 0.01, 0.03, 0.04 times 3, 2, 1 = 0.03, 0.06, 0.04 -> made monotone: 0.03, 0.06, 0.06.
    assert stats.holm_adjust([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    p_values = np.random.default_rng(4).random(12) ** 3
    assert stats.holm_adjust(list(p_values)) == pytest.approx(multipletests(p_values, method="holm")[1])


# --- planner --------------------------------------------------------------------------------------


def test_proportion_planner_matches_r_power_prop_test():
    # R documentation: power.prop.test(p1 = .50, p2 = .75, power = .90) gives n = 76.7 per group.
    assert stats.proportion_sample_size(0.5, 0.75, alpha=0.05, power=0.9) == pytest.approx(76.7, abs=0.05)
    plan = stats.plan_proportion_test(0.5, 0.5, daily_traffic=20, power=0.9)
    assert plan == stats.Plan(sample_size_per_arm=77, total_sample_size=154, days=8)
    assert stats.plan_proportion_test(0.5, 0.25, daily_traffic=20, power=0.9, relative=False) == plan


def test_mean_planner_matches_r_power_t_test():
    # R documentation: power.t.test(power = .90, delta = 1) gives n = 22.02110 per group.
    assert stats.mean_sample_size(1.0, 1.0, alpha=0.05, power=0.9) == pytest.approx(22.02110, abs=1e-4)
    plan = stats.plan_mean_test(10.0, 1.0, 0.1, daily_traffic=10, power=0.9, arms=3)
    assert plan == stats.Plan(sample_size_per_arm=23, total_sample_size=69, days=7)


def test_planner_needs_four_times_the_sample_for_half_the_effect():
    large = stats.plan_proportion_test(0.05, 0.2, daily_traffic=1_000)
    small = stats.plan_proportion_test(0.05, 0.1, daily_traffic=1_000)
    assert small.sample_size_per_arm / large.sample_size_per_arm == pytest.approx(4, rel=0.1)
    assert small.days == math.ceil(small.total_sample_size / 1_000)


def test_engine_imports_neither_django_nor_statsmodels():
    tree = ast.parse(Path(stats.__file__).read_text(encoding="utf-8"))
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert not {name for name in imported if name.split(".")[0] in {"django", "statsmodels"}}
