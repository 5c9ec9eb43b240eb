"""A/B-test statistics: pure functions over sufficient statistics (counts and sums).

An arm is summarised by a small frozen dataclass of sufficient statistics that add together, so
per-day aggregates merge into the whole experiment without keeping raw rows. Every test is a pure
function of such summaries; none imports Django. Fields may also be numpy arrays of one shape:
the tests then run element-wise, which the A/A simulation uses to test 10,000 experiments at once.

Conventions, for every comparison of a treatment with its control:

- lifts are treatment minus control (absolute) and treatment / control - 1 (relative);
- the relative lift's interval is a log-ratio interval: the delta method on
  log(treatment mean / control mean), whose variance is var_t / (n_t mean_t²) + var_c / (n_c mean_c²),
  then exponentiated (Katz et al. 1978 for a ratio of rates). Its lower bound is above -100 % and
  it is asymmetric as a ratio is: a plain delta-method interval on the ratio itself (the
  first-order variance of t / c) can reach below -100 % with few conversions, which no rate can.
  Where a mean is not positive (a CUPED-adjusted mean, say) the log is undefined and the plain
  delta-method interval is used;
- the two-proportion z-test uses the *pooled* rate for its test statistic (under the null
  hypothesis both arms share one rate, so the pooled estimate is the null variance, as in
  ``prop.test`` and statsmodels' ``proportions_ztest``) and the *unpooled* rates for its interval
  (an interval is about effects where the rates differ). Both agree closely at A/B sample sizes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from scipy import integrate, optimize
from scipy import stats as distributions

FloatLike = float | np.ndarray

DEFAULT_ALPHA = 0.05
# The sample size (both arms together) at which the sequential confidence sequence is tightest.
DEFAULT_SEQUENTIAL_TUNING = 5_000
SRM_THRESHOLD = 0.001


class Summary(Protocol):
    """What the frequentist and normal-model tests need from an arm: size, mean, unit variance."""

    @property
    def n(self) -> FloatLike: ...

    @property
    def mean(self) -> FloatLike: ...

    @property
    def variance(self) -> FloatLike: ...


@dataclass(frozen=True)
class ProportionStats:
    """A 0/1 metric: number of units and number of them with a success."""

    n: FloatLike
    successes: FloatLike

    def __add__(self, other: ProportionStats) -> ProportionStats:
        return ProportionStats(self.n + other.n, self.successes + other.successes)

    @property
    def mean(self) -> FloatLike:
        return np.divide(self.successes, self.n)

    @property
    def variance(self) -> FloatLike:
        """Bernoulli variance p(1 - p) of one unit."""
        return self.mean * (1 - self.mean)


@dataclass(frozen=True)
class MeanStats:
    """A numeric metric: number of units, sum and sum of squares."""

    n: FloatLike
    sum: FloatLike
    sum_squares: FloatLike

    @classmethod
    def from_values(cls, values: Sequence[float] | np.ndarray) -> MeanStats:
        values = np.asarray(values, dtype=float)
        return cls(len(values), float(values.sum()), float(np.square(values).sum()))

    def __add__(self, other: MeanStats) -> MeanStats:
        return MeanStats(self.n + other.n, self.sum + other.sum, self.sum_squares + other.sum_squares)

    @property
    def mean(self) -> FloatLike:
        return np.divide(self.sum, self.n)

    @property
    def variance(self) -> FloatLike:
        """Sample variance of one unit (n - 1 in the denominator)."""
        return np.divide(self.sum_squares - self.sum * self.mean, self.n - 1)


@dataclass(frozen=True)
class CovariateStats:
    """A numeric metric y with a pre-experiment covariate x, for CUPED: sums of y, y², x, x², xy."""

    n: FloatLike
    sum: FloatLike
    sum_squares: FloatLike
    covariate_sum: FloatLike
    covariate_sum_squares: FloatLike
    cross_sum: FloatLike

    @classmethod
    def from_values(
        cls, values: Sequence[float] | np.ndarray, covariates: Sequence[float] | np.ndarray
    ) -> CovariateStats:
        y = np.asarray(values, dtype=float)
        x = np.asarray(covariates, dtype=float)
        sums = (y.sum(), np.square(y).sum(), x.sum(), np.square(x).sum(), (x * y).sum())
        return cls(len(y), *(float(total) for total in sums))

    def __add__(self, other: CovariateStats) -> CovariateStats:
        return CovariateStats(
            self.n + other.n,
            self.sum + other.sum,
            self.sum_squares + other.sum_squares,
            self.covariate_sum + other.covariate_sum,
            self.covariate_sum_squares + other.covariate_sum_squares,
            self.cross_sum + other.cross_sum,
        )

    @property
    def outcome(self) -> MeanStats:
        return MeanStats(self.n, self.sum, self.sum_squares)

    @property
    def covariate(self) -> MeanStats:
        return MeanStats(self.n, self.covariate_sum, self.covariate_sum_squares)

    @property
    def covariance(self) -> FloatLike:
        """Sample covariance of covariate and outcome (n - 1 in the denominator)."""
        return np.divide(self.cross_sum - self.covariate_sum * self.outcome.mean, self.n - 1)


@dataclass(frozen=True)
class AdjustedMean:
    """An arm's summary after CUPED: the adjusted mean and the variance of one adjusted unit."""

    n: FloatLike
    mean: FloatLike
    variance: FloatLike


@dataclass(frozen=True)
class Comparison:
    """A frequentist comparison of a treatment with its control.

    ``ci_*`` bound the absolute lift and ``rel_ci_*`` the relative lift; ``statistic`` is z or t.
    """

    abs_lift: FloatLike
    rel_lift: FloatLike
    ci_low: FloatLike
    ci_high: FloatLike
    rel_ci_low: FloatLike
    rel_ci_high: FloatLike
    p_value: FloatLike
    statistic: FloatLike


@dataclass(frozen=True)
class BayesianComparison:
    """A Bayesian comparison: posterior means of the lifts, credible intervals, decision figures.

    ``expected_loss`` is the rate or mean lost, in expectation, by shipping the treatment if the
    control is in fact better; ``expected_loss_control`` the same for keeping the control.
    """

    abs_lift: float
    rel_lift: float
    ci_low: float
    ci_high: float
    rel_ci_low: float
    rel_ci_high: float
    chance_to_beat_control: float
    expected_loss: float
    expected_loss_control: float


# --- frequentist fixed-horizon tests -------------------------------------------------------------


def _relative_lift_se(control: Summary, treatment: Summary) -> FloatLike:
    """Delta-method standard error of treatment mean / control mean (independent arms)."""
    ratio = np.divide(treatment.mean, control.mean)
    treatment_var = np.divide(treatment.variance, treatment.n)
    control_var = np.divide(control.variance, control.n)
    return np.sqrt(treatment_var + ratio**2 * control_var) / np.abs(control.mean)


def _log_ratio_se(control: Summary, treatment: Summary) -> FloatLike:
    """Delta-method standard error of log(treatment mean / control mean) (independent arms)."""
    treatment_var = np.divide(treatment.variance, treatment.n * np.square(treatment.mean))
    control_var = np.divide(control.variance, control.n * np.square(control.mean))
    return np.sqrt(treatment_var + control_var)


def relative_lift_interval(control: Summary, treatment: Summary, critical: FloatLike) -> tuple[FloatLike, FloatLike]:
    """``critical`` standard errors either side of the relative lift, on the log-ratio scale.

    exp(log(t / c) ± critical × se(log(t / c))) - 1 where both means are positive (so the lower bound
    is above -1); the delta-method interval t / c - 1 ± critical × se(t / c) elsewhere.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.divide(treatment.mean, control.mean)
        positive = (np.asarray(control.mean) > 0) & (np.asarray(treatment.mean) > 0)
        spread = np.exp(critical * _log_ratio_se(control, treatment))
        delta = critical * _relative_lift_se(control, treatment)
        low = np.where(positive, ratio / spread - 1, ratio - 1 - delta)
        high = np.where(positive, ratio * spread - 1, ratio - 1 + delta)
    if np.ndim(low) == 0:
        return float(low), float(high)
    return low, high


def _unpooled_se(control: Summary, treatment: Summary) -> FloatLike:
    return np.sqrt(np.divide(control.variance, control.n) + np.divide(treatment.variance, treatment.n))


def _comparison(
    control: Summary,
    treatment: Summary,
    critical: FloatLike,
    se: FloatLike,
    p_value: FloatLike,
    statistic: FloatLike,
) -> Comparison:
    """The lifts with ``critical`` standard errors either side (absolute: ``se``; relative: log-ratio)."""
    abs_lift = treatment.mean - control.mean
    rel_lift = np.divide(treatment.mean, control.mean) - 1
    rel_ci_low, rel_ci_high = relative_lift_interval(control, treatment, critical)
    return Comparison(
        abs_lift=abs_lift,
        rel_lift=rel_lift,
        ci_low=abs_lift - critical * se,
        ci_high=abs_lift + critical * se,
        rel_ci_low=rel_ci_low,
        rel_ci_high=rel_ci_high,
        p_value=p_value,
        statistic=statistic,
    )


def two_proportion_z_test(
    control: ProportionStats, treatment: ProportionStats, alpha: float = DEFAULT_ALPHA
) -> Comparison:
    """Two-sided two-proportion z-test: pooled variance for z, unpooled for the Wald intervals."""
    pooled = control + treatment
    pooled_se = np.sqrt(pooled.variance * (1 / control.n + 1 / treatment.n))
    z = np.divide(treatment.mean - control.mean, pooled_se)
    critical = distributions.norm.isf(alpha / 2)
    return _comparison(
        control,
        treatment,
        critical=critical,
        se=_unpooled_se(control, treatment),
        p_value=2 * distributions.norm.sf(np.abs(z)),
        statistic=z,
    )


def welch_degrees_of_freedom(control: Summary, treatment: Summary) -> FloatLike:
    """Welch-Satterthwaite degrees of freedom of the difference of two means."""
    control_var = np.divide(control.variance, control.n)
    treatment_var = np.divide(treatment.variance, treatment.n)
    denominator = control_var**2 / (control.n - 1) + treatment_var**2 / (treatment.n - 1)
    return np.divide((control_var + treatment_var) ** 2, denominator)


def welch_t_test(control: Summary, treatment: Summary, alpha: float = DEFAULT_ALPHA) -> Comparison:
    """Two-sided Welch t-test (unequal variances); both intervals use the Welch t quantile."""
    se = _unpooled_se(control, treatment)
    df = welch_degrees_of_freedom(control, treatment)
    t = np.divide(treatment.mean - control.mean, se)
    critical = distributions.t.isf(alpha / 2, df)
    return _comparison(
        control,
        treatment,
        critical=critical,
        se=se,
        p_value=2 * distributions.t.sf(np.abs(t), df),
        statistic=t,
    )


# --- CUPED ----------------------------------------------------------------------------------------


def cuped_theta(control: CovariateStats, treatment: CovariateStats) -> FloatLike:
    """The regression slope of outcome on covariate, pooled over both arms (one theta for all)."""
    pooled = control + treatment
    return np.divide(pooled.covariance, pooled.covariate.variance)


def cuped_adjust(control: CovariateStats, treatment: CovariateStats) -> tuple[AdjustedMean, AdjustedMean]:
    """CUPED (Deng et al. 2013): subtract theta times the covariate's deviation from its pooled mean.

    Randomisation makes the covariate independent of the arm, so the adjusted difference is still
    unbiased while its variance shrinks by the squared correlation. The adjusted summaries feed
    ``welch_t_test``, ``sequential_test`` or ``bayesian_means``.
    """
    theta = cuped_theta(control, treatment)
    pooled_covariate_mean = (control + treatment).covariate.mean
    return tuple(
        AdjustedMean(
            n=arm.n,
            mean=arm.outcome.mean - theta * (arm.covariate.mean - pooled_covariate_mean),
            variance=arm.outcome.variance + theta**2 * arm.covariate.variance - 2 * theta * arm.covariance,
        )
        for arm in (control, treatment)
    )


# --- sequential testing ---------------------------------------------------------------------------


def mixture_rho_squared(alpha: float = DEFAULT_ALPHA, tuning: float = DEFAULT_SEQUENTIAL_TUNING) -> float:
    """Mixing variance that makes the normal-mixture boundary tightest at ``tuning`` units.

    From Howard, Ramdas, McAuliffe and Sekhon (2021), "Time-uniform, nonparametric, nonasymptotic
    confidence sequences", section 3.5; ``tuning`` is the total sample size one expects to reach.
    """
    log_term = -2 * math.log(alpha)
    return (log_term + math.log(log_term + 1)) / tuning


def _mixture_half_width_factor(n_total: FloatLike, alpha: float, rho_squared: float) -> FloatLike:
    """How many standard errors wide the two-sided normal-mixture confidence sequence is at n_total."""
    n_rho = n_total * rho_squared
    return np.sqrt(2 * (n_rho + 1) / n_rho * np.log(np.sqrt(n_rho + 1) / alpha))


def _mixture_p_value(z: FloatLike, n_total: FloatLike, rho_squared: float) -> FloatLike:
    """Always-valid p-value: 1 / the mixture likelihood ratio (mSPRT), capped at 1.

    The ratio is a nonnegative martingale under the null hypothesis, so by Ville's inequality it
    exceeds 1/alpha at *any* look with probability at most alpha.
    """
    n_rho = n_total * rho_squared
    log_ratio = z**2 * n_rho / (2 * (n_rho + 1)) - 0.5 * np.log(n_rho + 1)
    return np.exp(-np.maximum(log_ratio, 0))


def sequential_test(
    control: Summary,
    treatment: Summary,
    alpha: float = DEFAULT_ALPHA,
    tuning: float = DEFAULT_SEQUENTIAL_TUNING,
) -> Comparison:
    """One look of a test that stays valid however often it is looked at.

    Intervals are the asymptotic normal-mixture confidence sequences of Howard et al. (2021),
    which GrowthBook also uses; the p-value is its dual (below alpha exactly when the interval at
    level alpha excludes zero). The standard errors are unpooled, so the p-value and the interval
    agree. ``tuning`` is the total sample size (both arms) at which the intervals are tightest.
    """
    rho_squared = mixture_rho_squared(alpha, tuning)
    n_total = control.n + treatment.n
    se = _unpooled_se(control, treatment)
    z = np.divide(treatment.mean - control.mean, se)
    factor = _mixture_half_width_factor(n_total, alpha, rho_squared)
    return _comparison(
        control,
        treatment,
        critical=factor,
        se=se,
        p_value=_mixture_p_value(z, n_total, rho_squared),
        statistic=z,
    )


def sequential_test_over_looks(
    looks: Sequence[tuple[Summary, Summary]],
    alpha: float = DEFAULT_ALPHA,
    tuning: float = DEFAULT_SEQUENTIAL_TUNING,
) -> Comparison:
    """The sequential result after several cumulative looks (control, treatment), oldest first.

    Reports the latest estimates, the running minimum of the always-valid p-values and the running
    intersection of the confidence sequences: both stay valid because the guarantee holds
    uniformly over looks, and they agree with each other (p < alpha iff the interval excludes 0).
    Looks with undefined figures (an arm without variance yet) are skipped.
    """
    results = [sequential_test(control, treatment, alpha, tuning) for control, treatment in looks]
    latest = results[-1]

    def across_looks(field: str, reduce: Callable[[list], float]) -> float:
        return float(reduce([getattr(result, field) for result in results]))

    return Comparison(
        abs_lift=latest.abs_lift,
        rel_lift=latest.rel_lift,
        ci_low=across_looks("ci_low", np.nanmax),
        ci_high=across_looks("ci_high", np.nanmin),
        rel_ci_low=across_looks("rel_ci_low", np.nanmax),
        rel_ci_high=across_looks("rel_ci_high", np.nanmin),
        p_value=across_looks("p_value", np.nanmin),
        statistic=latest.statistic,
    )


# --- Bayesian -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BetaPosterior:
    """Beta(alpha, beta) posterior of a conversion rate."""

    alpha: float
    beta: float

    @classmethod
    def from_stats(cls, stats: ProportionStats, prior_alpha: float = 1, prior_beta: float = 1) -> BetaPosterior:
        """Conjugate update of a Beta prior (uniform by default) with the arm's counts."""
        return cls(prior_alpha + stats.successes, prior_beta + stats.n - stats.successes)

    @property
    def mean(self) -> float:
        return self.alpha / (self.alpha + self.beta)

    def credible_interval(self, level: float = 0.95) -> tuple[float, float]:
        """Equal-tailed credible interval of the rate."""
        tail = (1 - level) / 2
        low, high = distributions.beta.ppf([tail, 1 - tail], self.alpha, self.beta)
        return float(low), float(high)

    def effective_support(self) -> tuple[float, float]:
        # Outside these quantiles the density is negligible; integrating there only costs accuracy.
        low, high = distributions.beta.ppf([1e-15, 1 - 1e-15], self.alpha, self.beta)
        return float(low), float(high)


def _integrate_over(posteriors: Sequence[BetaPosterior], function: Callable[[float], float]) -> float:
    low = min(posterior.effective_support()[0] for posterior in posteriors)
    high = max(posterior.effective_support()[1] for posterior in posteriors)
    # Splitting at the posterior means keeps quad from stepping over a narrow peak.
    peaks = [posterior.mean for posterior in posteriors]
    value, _ = integrate.quad(function, low, high, points=peaks, limit=500, epsabs=1e-12, epsrel=1e-10)
    return float(value)


def chance_to_beat_integrated(control: BetaPosterior, treatment: BetaPosterior) -> float:
    """P(treatment rate > control rate) by numerical integration of f_T(x) * F_C(x)."""
    return _integrate_over(
        (control, treatment),
        lambda x: (
            distributions.beta.pdf(x, treatment.alpha, treatment.beta)
            * distributions.beta.cdf(x, control.alpha, control.beta)
        ),
    )


def expected_loss_integrated(control: BetaPosterior, treatment: BetaPosterior) -> float:
    """E[max(control rate - treatment rate, 0)] by numerical integration over the treatment rate.

    The inner integral over the control rate c > t has a closed form: c * Beta(a, b) density is
    the mean times the Beta(a + 1, b) density.
    """

    def loss_given_treatment(t: float) -> float:
        upper_mean = control.mean * distributions.beta.sf(t, control.alpha + 1, control.beta)
        upper_mass = distributions.beta.sf(t, control.alpha, control.beta)
        return distributions.beta.pdf(t, treatment.alpha, treatment.beta) * (upper_mean - t * upper_mass)

    return _integrate_over((control, treatment), loss_given_treatment)


def bayesian_proportions(
    control: ProportionStats,
    treatment: ProportionStats,
    level: float = 0.95,
    draws: int = 200_000,
    seed: int = 0,
    prior_alpha: float = 1,
    prior_beta: float = 1,
) -> BayesianComparison:
    """Beta-binomial comparison by seeded Monte Carlo draws from both posteriors.

    The draws give the lift's posterior (absolute and relative) directly; the chance to beat
    control and the expected losses have integrated counterparts above to check them against.
    """
    rng = np.random.default_rng(seed)
    control_posterior = BetaPosterior.from_stats(control, prior_alpha, prior_beta)
    treatment_posterior = BetaPosterior.from_stats(treatment, prior_alpha, prior_beta)
    control_rates = rng.beta(control_posterior.alpha, control_posterior.beta, draws)
    treatment_rates = rng.beta(treatment_posterior.alpha, treatment_posterior.beta, draws)
    return _bayesian_from_draws(control_rates, treatment_rates, level)


def _bayesian_from_draws(control: np.ndarray, treatment: np.ndarray, level: float) -> BayesianComparison:
    difference = treatment - control
    relative = treatment / control - 1
    tails = [(1 - level) / 2, (1 + level) / 2]
    ci_low, ci_high = np.quantile(difference, tails)
    rel_ci_low, rel_ci_high = np.quantile(relative, tails)
    return BayesianComparison(
        abs_lift=float(difference.mean()),
        rel_lift=float(treatment.mean() / control.mean() - 1),
        ci_low=float(ci_low),
        ci_high=float(ci_high),
        rel_ci_low=float(rel_ci_low),
        rel_ci_high=float(rel_ci_high),
        chance_to_beat_control=float((difference > 0).mean()),
        expected_loss=float(np.maximum(-difference, 0).mean()),
        expected_loss_control=float(np.maximum(difference, 0).mean()),
    )


def _normal_expected_shortfall(mean: float, sd: float) -> float:
    """E[max(-D, 0)] for D ~ Normal(mean, sd²)."""
    return sd * distributions.norm.pdf(mean / sd) - mean * distributions.norm.cdf(-mean / sd)


def bayesian_means(control: Summary, treatment: Summary, level: float = 0.95) -> BayesianComparison:
    """Normal model for means: with a flat prior each arm's mean is Normal(mean, variance / n).

    Everything is closed-form; the relative lift's credible interval is the log-ratio one (the
    log of the ratio of the two normal posteriors, to first order).
    """
    difference = float(treatment.mean - control.mean)
    sd = float(_unpooled_se(control, treatment))
    relative = float(treatment.mean / control.mean - 1)
    critical = distributions.norm.isf((1 - level) / 2)
    rel_ci_low, rel_ci_high = relative_lift_interval(control, treatment, critical)
    return BayesianComparison(
        abs_lift=difference,
        rel_lift=relative,
        ci_low=difference - critical * sd,
        ci_high=difference + critical * sd,
        rel_ci_low=float(rel_ci_low),
        rel_ci_high=float(rel_ci_high),
        chance_to_beat_control=float(distributions.norm.cdf(difference / sd)),
        expected_loss=_normal_expected_shortfall(difference, sd),
        expected_loss_control=_normal_expected_shortfall(-difference, sd),
    )


# --- sample ratio mismatch and multiple comparisons -----------------------------------------------


@dataclass(frozen=True)
class SampleRatioMismatch:
    statistic: FloatLike
    p_value: FloatLike
    flagged: FloatLike


def sample_ratio_mismatch(
    counts: Sequence[float] | np.ndarray, weights: Sequence[float], threshold: float = SRM_THRESHOLD
) -> SampleRatioMismatch:
    """Pearson chi-square test of the arms' sizes against the designed weights (any scale).

    ``counts`` may carry leading axes (several experiments); arms are along the last one.
    """
    counts = np.asarray(counts, dtype=float)
    shares = np.asarray(weights, dtype=float) / np.sum(weights)
    expected = counts.sum(axis=-1, keepdims=True) * shares
    statistic = np.sum((counts - expected) ** 2 / expected, axis=-1)
    p_value = distributions.chi2.sf(statistic, df=len(shares) - 1)
    return SampleRatioMismatch(statistic=statistic, p_value=p_value, flagged=p_value < threshold)


def holm_adjust(p_values: Sequence[float]) -> list[float]:
    """Holm's step-down adjustment, controlling the family-wise error rate across comparisons."""
    order = np.argsort(p_values)
    count = len(order)
    adjusted = np.empty(count)
    running_max = 0.0
    for rank, index in enumerate(order):
        running_max = max(running_max, (count - rank) * p_values[index])
        adjusted[index] = min(running_max, 1.0)
    return adjusted.tolist()


# --- planner --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """Units needed per arm, in all, and days to collect them at the given daily traffic."""

    sample_size_per_arm: int
    total_sample_size: int
    days: int


def _plan(sample_size_per_arm: float, arms: int, daily_traffic: float) -> Plan:
    per_arm = math.ceil(sample_size_per_arm)
    return Plan(per_arm, per_arm * arms, math.ceil(per_arm * arms / daily_traffic))


def _absolute_effect(baseline: float, mde: float, relative: bool) -> float:
    return abs(baseline * mde if relative else mde)


def proportion_sample_size(baseline_rate: float, treatment_rate: float, alpha: float, power: float) -> float:
    """Units per arm for a two-sided two-proportion z-test (Fleiss, no continuity correction).

    The same formula as R's ``power.prop.test``: the null variance uses the average rate.
    """
    average = (baseline_rate + treatment_rate) / 2
    null_sd = math.sqrt(2 * average * (1 - average))
    alternative_sd = math.sqrt(baseline_rate * (1 - baseline_rate) + treatment_rate * (1 - treatment_rate))
    numerator = distributions.norm.isf(alpha / 2) * null_sd + distributions.norm.isf(1 - power) * alternative_sd
    return (numerator / (treatment_rate - baseline_rate)) ** 2


def mean_sample_size(effect: float, std_dev: float, alpha: float, power: float) -> float:
    """Units per arm for a two-sided two-sample t-test (equal sd), solved with the noncentral t.

    The same calculation as R's ``power.t.test``; the normal approximation only brackets the root.
    """

    def power_shortfall(n: float) -> float:
        df = 2 * (n - 1)
        noncentrality = math.sqrt(n / 2) * effect / std_dev
        achieved = distributions.nct.sf(distributions.t.isf(alpha / 2, df), df, noncentrality)
        return achieved - power

    normal_n = 2 * ((distributions.norm.isf(alpha / 2) + distributions.norm.isf(1 - power)) * std_dev / effect) ** 2
    return optimize.brentq(power_shortfall, 2, max(normal_n * 2, 10), xtol=1e-10)


def plan_proportion_test(
    baseline_rate: float,
    mde: float,
    daily_traffic: float,
    *,
    relative: bool = True,
    alpha: float = DEFAULT_ALPHA,
    power: float = 0.8,
    arms: int = 2,
) -> Plan:
    """Plan a conversion test: ``mde`` is relative to the baseline rate unless ``relative=False``.

    ``daily_traffic`` counts units entering the experiment per day, all arms together.
    """
    treatment_rate = baseline_rate + _absolute_effect(baseline_rate, mde, relative)
    return _plan(proportion_sample_size(baseline_rate, treatment_rate, alpha, power), arms, daily_traffic)


def plan_mean_test(
    baseline_mean: float,
    std_dev: float,
    mde: float,
    daily_traffic: float,
    *,
    relative: bool = True,
    alpha: float = DEFAULT_ALPHA,
    power: float = 0.8,
    arms: int = 2,
) -> Plan:
    """Plan a test of a mean (revenue per visitor...): ``std_dev`` is one unit's standard deviation."""
    effect = _absolute_effect(baseline_mean, mde, relative)
    return _plan(mean_sample_size(effect, std_dev, alpha, power), arms, daily_traffic)
