"""Inverse-propensity-weighted estimates of each arm's mean from a bandit's logged data.

A bandit's plain per-arm means are biased: an arm that had an unlucky start gets less traffic,
so its low estimate is corrected more slowly than a lucky high one is, and the mean of the data
it got sits below its true mean (Nie et al., 2018, "Why adaptively collected data have negative
bias"). Weighting each visitor by one over the probability with which they got their arm
removes that bias: E[1{A = a} Y / p] = E[Y | a] whatever the policy did, as long as every arm
kept a positive probability (hence the bandit's minimum share).

- IPW (Horvitz-Thompson): mean over *all* N visitors of 1{A = a} Y / p. Unbiased, but noisy.
- Self-normalized IPW (Hajek): sum of 1{A = a} Y / p over the sum of 1{A = a} / p. Slightly
  biased (of order 1/N), usually far less variable, and always within the range of the rewards.

The intervals are normal ones from the linearised (sandwich) variances. Under a bandit the
terms are a martingale difference sequence rather than independent, and the martingale central
limit theorem makes these intervals approximately right when propensities stay away from 0.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats as distributions


@dataclass(frozen=True)
class Estimate:
    """A mean with its standard error and two-sided confidence interval."""

    mean: float
    standard_error: float
    low: float
    high: float


@dataclass(frozen=True)
class ArmEstimate:
    """One arm's visitors, its plain mean (biased under a bandit) and its IPW and self-normalized IPW means."""

    key: str
    visitors: int
    naive: Estimate
    ipw: Estimate
    self_normalized: Estimate


def _estimate(mean: float, standard_error: float, critical: float) -> Estimate:
    margin = critical * standard_error
    return Estimate(float(mean), float(standard_error), float(mean - margin), float(mean + margin))


def ipw_estimates(
    arms: Sequence[str] | np.ndarray,
    rewards: Sequence[float] | np.ndarray,
    propensities: Sequence[float] | np.ndarray,
    level: float = 0.95,
) -> dict[str, ArmEstimate]:
    """Per-arm estimates from one row per visitor: the arm they got, their reward, and the propensity.

    ``propensities[i]`` is the probability with which visitor i got the arm they got, at that
    time: the allocation share in force (which the bandit stores as its weights).
    """
    arms = np.asarray(arms)
    rewards = np.asarray(rewards, dtype=float)
    propensities = np.asarray(propensities, dtype=float)
    if not (arms.ndim == 1 and arms.shape == rewards.shape == propensities.shape):
        raise ValueError("arms, rewards and propensities need one value per visitor each")
    if len(arms) < 2:
        raise ValueError("at least two visitors are needed for an interval")
    if not np.isfinite(rewards).all():
        raise ValueError("rewards must be finite numbers")
    if not ((propensities > 0) & (propensities <= 1)).all():
        raise ValueError("propensities must be probabilities above 0")
    if not 0 < level < 1:
        raise ValueError(f"level must be between 0 and 1, got {level}")
    critical = float(distributions.norm.isf((1 - level) / 2))
    total = len(arms)
    results = {}
    for key in np.unique(arms).tolist():
        chosen = arms == key
        weights = np.where(chosen, 1 / propensities, 0.0)
        own = rewards[chosen]
        naive_error = own.std(ddof=1) / math.sqrt(len(own)) if len(own) > 1 else math.inf
        terms = weights * rewards
        ipw_mean = terms.mean()
        snipw_mean = terms.sum() / weights.sum()
        snipw_error = math.sqrt(float(np.sum(np.square(weights * (rewards - snipw_mean))))) / weights.sum()
        results[key] = ArmEstimate(
            key=key,
            visitors=int(chosen.sum()),
            naive=_estimate(own.mean(), naive_error, critical),
            ipw=_estimate(ipw_mean, terms.std(ddof=1) / math.sqrt(total), critical),
            self_normalized=_estimate(snipw_mean, snipw_error, critical),
        )
    return results
