"""Thompson sampling on conversion (beta-binomial) and on revenue per visitor (normal mean).

One implementation serves the bandits on promotion slots and the exploration in the promotion
ranking: ``posterior_draws`` gives one plausible value per arm (the ranking multiplies it into
its score), ``sample`` picks one arm for one visitor at request time (one draw per arm, no
Monte Carlo), and ``allocation`` gives the share of traffic each arm should get (its
probability of being best, by Monte Carlo, floored at a minimum share) for a periodic task to
store as weights. Every random number comes from the numpy ``Generator`` passed in.

Revenue per visitor uses a normal posterior on the mean, built from the sufficient statistics
(n, sum, sum of squares). Revenue per visitor is mostly zeros with a long tail, but its *mean*
over the hundreds of visitors a burn-in gives is close to normal (central limit theorem); the
alternative, a Bayesian bootstrap, needs every visitor's value (no merging of daily
aggregates) and a resampling per draw, too slow at request time. Without a prior of its own, an
arm's revenue prior is pooled over the arms compared: their mean worth one pseudo-visitor, their
variance worth an average arm's visitors (see ``pooled_revenue_prior``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from promotions.bandits.arms import Arm, ArmStats, Prior, RevenuePosterior
from promotions.bandits.shares import active_arms, argmax, floor_shares, in_burn_in, spread
from promotions.experiments.stats.inference import BetaPosterior

METRICS = ("conversion", "revenue")
DEFAULT_PRIOR = Prior()
# Pseudo-visitors of the pooled revenue prior's mean: too few to move a measured mean.
POOLED_REVENUE_PRIOR_WEIGHT = 1.0


def check_metric(metric: str) -> None:
    if metric not in METRICS:
        raise ValueError(f"unknown metric {metric!r}: expected one of {', '.join(METRICS)}")


def _beta_parameters(arm: Arm) -> tuple[float, float]:
    prior = arm.prior or DEFAULT_PRIOR
    return prior.alpha + arm.stats.conversions, prior.beta + arm.stats.visitors - arm.stats.conversions


def conversion_posterior(arm: Arm) -> BetaPosterior:
    """Beta(alpha + conversions, beta + visitors - conversions)."""
    return BetaPosterior(*_beta_parameters(arm))


def pooled_revenue_prior(arms: Sequence[Arm]) -> Prior:
    """The default revenue prior for ``arms``: their pooled mean and variance.

    The mean counts as one pseudo-visitor (it hardly moves a measured arm); the variance as many
    as an average arm's visitors, so an arm whose few visitors all spent nothing still has the
    spread the other arms show, and is explored, instead of looking surely worthless.
    """
    # Sums taken field by field, not by adding ArmStats: this runs on every revenue request.
    pooled = ArmStats(
        sum(arm.stats.visitors for arm in arms),
        0,
        sum(arm.stats.revenue for arm in arms),
        sum(arm.stats.revenue_squares for arm in arms),
    )
    _, mean, variance, _ = RevenuePosterior.moments(pooled, DEFAULT_PRIOR)
    return Prior(
        revenue_weight=min(POOLED_REVENUE_PRIOR_WEIGHT, pooled.visitors),
        revenue_mean=mean,
        revenue_variance=variance,
        revenue_variance_weight=pooled.visitors / len(arms),
    )


def revenue_posterior(arm: Arm, default_prior: Prior = DEFAULT_PRIOR) -> RevenuePosterior:
    """Normal posterior of the arm's revenue per visitor (``default_prior`` when the arm has none)."""
    return RevenuePosterior.of(arm.stats, arm.prior or default_prior)


def posterior_draws(
    arms: Sequence[Arm], rng: np.random.Generator, metric: str = "conversion", size: int | None = None
) -> np.ndarray:
    """Draws from each arm's posterior: shape (len(arms),), or (size, len(arms)) with ``size``.

    An arm whose revenue posterior has no spread yet (under two visitors, prior included) draws
    +inf: it is tried before any arm with data.
    """
    check_metric(metric)
    shape = (len(arms),) if size is None else (size, len(arms))
    if metric == "conversion":
        # Beta(a, b) as X / (X + Y) with X ~ Gamma(a), Y ~ Gamma(b): one call for every arm, where
        # rng.beta with arrays of parameters costs several times more per request.
        parameters = [_beta_parameters(arm) for arm in arms]
        flat = np.array([alpha for alpha, _ in parameters] + [beta for _, beta in parameters])
        gammas = rng.standard_gamma(flat if size is None else np.tile(flat, (size, 1)))
        first = gammas[..., : len(arms)]
        return first / (first + gammas[..., len(arms) :])
    default = pooled_revenue_prior(arms) if any(arm.prior is None for arm in arms) else DEFAULT_PRIOR
    # RevenuePosterior's formulas on plain floats: per-arm objects would cost more per request.
    moments = [RevenuePosterior.moments(arm.stats, arm.prior or default) for arm in arms]
    _, means, _, errors = (np.array(column) for column in zip(*moments, strict=True))
    unknown = np.isinf(errors)
    draws = rng.standard_normal(shape) * np.where(unknown, 0.0, errors) + means
    draws[..., unknown] = np.inf
    return draws


def sample(
    arms: Sequence[Arm],
    rng: np.random.Generator,
    *,
    metric: str = "conversion",
    burn_in: int = 0,
    min_share: float = 0.0,
) -> Arm:
    """The arm for one visitor: one posterior draw per active arm, the largest wins.

    During the burn-in every active arm is equally likely. With a minimum share m over k active
    arms, a visitor goes to a uniformly chosen arm with probability k m and to the Thompson
    choice otherwise, so each arm's chance is at least m. Raises ``NoActiveArmError`` when every
    arm is switched off.
    """
    active = active_arms(arms, min_share, burn_in)
    if in_burn_in(active, burn_in) or (min_share > 0 and rng.random() < min_share * len(active)):
        return active[int(rng.integers(len(active)))]
    return active[argmax(posterior_draws(active, rng, metric), rng)]


def win_probabilities(draws: np.ndarray) -> np.ndarray:
    """Share of the rows of ``draws`` (draws x arms) in which each arm is largest; ties split evenly."""
    wins = draws == draws.max(axis=1, keepdims=True)
    return (wins / wins.sum(axis=1, keepdims=True)).mean(axis=0)


def allocation(
    arms: Sequence[Arm],
    draws: int,
    rng: np.random.Generator,
    min_share: float = 0.0,
    burn_in: int = 0,
    *,
    metric: str = "conversion",
) -> dict[str, float]:
    """Share of traffic per arm key: P(arm is best) from ``draws`` posterior draws, floored at ``min_share``.

    Switched-off arms get 0; during the burn-in the active arms share equally. The shares sum to 1.
    """
    if draws < 1:
        raise ValueError(f"draws must be positive, got {draws}")
    active = active_arms(arms, min_share, burn_in)
    if in_burn_in(active, burn_in):
        shares = np.full(len(active), 1 / len(active))
    else:
        shares = floor_shares(win_probabilities(posterior_draws(active, rng, metric, size=draws)), min_share)
    return spread(arms, active, shares)
