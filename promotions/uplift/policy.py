"""Offline evaluation of a targeting policy on logged randomized data (inverse propensity weighting).

A log row says which arm a customer was given at random (with a known probability) and what
followed. A policy is judged by the rows where it would have chosen the arm that was logged: each
such outcome is weighted by 1 / (probability of the logged arm), which makes the average an
unbiased estimate of the outcome per customer had everyone been treated by the policy. Confidence
intervals come from the bootstrap, with the same resamples for every policy so their differences
get intervals too. The same function judges a promotion ranking policy on the shop's own logged,
randomized promotions before it goes live.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

#: Bootstrap resamples drawn per batch, to bound memory (resamples x rows indexes).
_BATCH = 50


class _LoggingPolicy:
    """The policy that produced the log, as a policy to estimate: every row is its own choice, with
    weight 1 (its probability over the logged propensity is 1), so its value is the plain mean."""

    def __repr__(self) -> str:
        return "LOGGING_POLICY"


#: Pass as a policy's arms to ``evaluate_policies`` to estimate the logging policy itself (it is
#: stochastic, so no one arm per row describes it), e.g. as the baseline of the differences.
LOGGING_POLICY = _LoggingPolicy()


@dataclass(frozen=True)
class PolicyEstimate:
    """The estimated outcome per customer under a policy, its bootstrap interval, and its difference
    (with interval) from the baseline policy; ``matched`` counts the log rows the estimate rests on."""

    value: float
    low: float
    high: float
    matched: int
    difference: float | None = None
    difference_low: float | None = None
    difference_high: float | None = None


def _check(logged_arms, propensities, outcomes) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    logged_arms = np.asarray(logged_arms)
    propensities = np.asarray(propensities, dtype=float)
    outcomes = np.asarray(outcomes, dtype=float)
    if not (logged_arms.shape == propensities.shape == outcomes.shape) or logged_arms.ndim != 1:
        raise ValueError("logged arms, propensities and outcomes must be 1-d arrays of the same length")
    if logged_arms.size == 0:
        raise ValueError("the log is empty")
    if not ((propensities > 0) & (propensities <= 1)).all():
        raise ValueError("propensities must be in (0, 1]: an arm never given at random cannot be evaluated")
    if not np.isfinite(outcomes).all():
        raise ValueError("outcomes must be finite numbers")
    return logged_arms, propensities, outcomes


def _weights(logged_arms: np.ndarray, propensities: np.ndarray, policy_arms) -> np.ndarray:
    if policy_arms is LOGGING_POLICY:
        return np.ones(logged_arms.size)
    policy_arms = np.asarray(policy_arms)
    if policy_arms.shape != logged_arms.shape:
        raise ValueError("the policy must choose one arm for every log row")
    return (policy_arms == logged_arms) / propensities


def ipw_value(logged_arms, propensities, outcomes, policy_arms, self_normalized: bool = False) -> float:
    """The inverse-propensity-weighted mean outcome had every customer got ``policy_arms``.

    ``self_normalized`` divides by the sum of the weights instead of the row count: slightly
    biased, lower variance, and exact when the policy matches the log everywhere.
    """
    logged_arms, propensities, outcomes = _check(logged_arms, propensities, outcomes)
    weights = _weights(logged_arms, propensities, policy_arms)
    total = weights.sum() if self_normalized else weights.size
    return float((weights * outcomes).sum() / total) if total else float("nan")


def _values(contributions: np.ndarray, weights: np.ndarray, rows, self_normalized: bool) -> np.ndarray:
    """Each policy's estimate (first axis) on the rows given (an index array adds resample axes)."""
    sums = contributions[:, rows].sum(axis=-1)
    totals = weights[:, rows].sum(axis=-1) if self_normalized else np.full_like(sums, contributions[:, rows].shape[-1])
    return np.divide(sums, totals, out=np.full_like(sums, np.nan), where=totals != 0)


def evaluate_policies(
    logged_arms,
    propensities,
    outcomes,
    policies: Mapping[str, Sequence],
    baseline: str | None = None,
    n_bootstrap: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
    self_normalized: bool = False,
) -> dict[str, PolicyEstimate]:
    """IPW estimates of several policies (name -> chosen arm per row, or ``LOGGING_POLICY``) with
    percentile bootstrap intervals.

    With ``baseline`` (a policy name), each estimate also carries its difference from the
    baseline, with an interval from the same resamples (paired, so much narrower than the two
    intervals suggest).
    """
    logged_arms, propensities, outcomes = _check(logged_arms, propensities, outcomes)
    if baseline is not None and baseline not in policies:
        raise ValueError(f"baseline {baseline!r} is not one of the policies")
    if not 0 < confidence < 1 or n_bootstrap < 2:
        raise ValueError("confidence must be in (0, 1) and n_bootstrap at least 2")
    names = list(policies)
    weights = np.array([_weights(logged_arms, propensities, policies[name]) for name in names])
    contributions = weights * outcomes

    point = _values(contributions, weights, slice(None), self_normalized)
    rng = np.random.default_rng(seed)
    batches = []
    for start in range(0, n_bootstrap, _BATCH):
        rows = rng.integers(0, outcomes.size, size=(min(_BATCH, n_bootstrap - start), outcomes.size))
        batches.append(_values(contributions, weights, rows, self_normalized).T)
    samples = np.vstack(batches)  # resamples x policies
    tail = (1 - confidence) / 2 * 100
    low, high = np.nanpercentile(samples, [tail, 100 - tail], axis=0)
    if baseline is not None:
        base = names.index(baseline)
        differences = samples - samples[:, [base]]
        difference_low, difference_high = np.nanpercentile(differences, [tail, 100 - tail], axis=0)
    estimates = {}
    for index, name in enumerate(names):
        extra = {}
        if baseline is not None:
            extra = {
                "difference": float(point[index] - point[base]),
                "difference_low": float(difference_low[index]),
                "difference_high": float(difference_high[index]),
            }
        estimates[name] = PolicyEstimate(
            float(point[index]), float(low[index]), float(high[index]), int((weights[index] > 0).sum()), **extra
        )
    return estimates


def uplift_policy(uplifts: Mapping[str, Sequence[float]], control: str) -> np.ndarray:
    """Per customer, the treatment with the highest predicted uplift, or ``control`` when none is positive."""
    if not uplifts:
        raise ValueError("at least one treatment's predicted uplift is needed")
    names = list(uplifts)
    scores = np.array([np.asarray(uplifts[name], dtype=float) for name in names])
    best = scores.argmax(axis=0)
    chosen = np.array(names, dtype=object)[best]
    chosen[scores.max(axis=0) <= 0] = control
    return chosen
