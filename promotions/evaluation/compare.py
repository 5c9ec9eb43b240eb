"""Offline A/B of two recommenders: a paired bootstrap of their per-user NDCG differences.

Both models are scored under the protocol on the same test users, so each user gives one paired
difference ``d_u = NDCG_b(u) - NDCG_a(u)``; resampling users (with replacement) keeps the pairing
and so removes the large between-user variance that an unpaired comparison would carry. The
confidence interval is the bootstrap percentile interval of the mean difference (scipy's
``bootstrap``); the two-sided p-value is the share of bootstrap means at least as far from the
observed mean as the observed mean is from 0 (the bootstrap distribution shifted to the null
"no difference", Efron & Tibshirani 1993, ch. 16), with the usual +1 so it is never 0.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy import stats


@dataclass(frozen=True)
class Comparison:
    """``b`` against ``a``: means, the mean paired difference ``b - a``, its interval and p-value."""

    a: str
    b: str
    users: int
    mean_a: float
    mean_b: float
    difference: float
    ci_low: float
    ci_high: float
    p_value: float
    confidence: float
    resamples: int

    @property
    def relative(self) -> float:
        """The difference relative to ``a``'s mean (nan when ``a`` scores 0)."""
        return self.difference / self.mean_a if self.mean_a else float("nan")

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "relative": self.relative}

    def summary(self, metric: str = "NDCG@10") -> str:
        level = f"{self.confidence:.0%}"
        return (
            f"{self.b} vs {self.a} on {self.users} users: {metric} {self.mean_b:.4f} vs {self.mean_a:.4f}, "
            f"difference {self.difference:+.4f} ({self.relative:+.1%}), {level} CI [{self.ci_low:+.4f}, "
            f"{self.ci_high:+.4f}], p = {self.p_value:.4f} (paired bootstrap, {self.resamples} resamples)"
        )


def paired_bootstrap(
    a: np.ndarray,
    b: np.ndarray,
    names: tuple[str, str] = ("a", "b"),
    resamples: int = 10_000,
    confidence: float = 0.95,
    seed: int = 0,
) -> Comparison:
    """Compare per-user scores ``b`` with ``a`` (the same users, in the same order).

    Raises ``ValueError`` for arrays of different lengths, fewer than two users, or a confidence
    outside (0, 1).
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"per-user scores must be two 1-d arrays of one length, not {a.shape} and {b.shape}")
    if len(a) < 2:
        raise ValueError("a paired bootstrap needs at least two users")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, not {confidence}")
    differences = b - a
    observed = float(differences.mean())
    if np.all(differences == differences[0]):
        # Every resample has the same mean: the interval is that point, and p is 1 only at 0.
        low = high = observed
        p_value = 1.0 if observed == 0 else 1.0 / (resamples + 1)
    else:
        result = stats.bootstrap(
            (differences,),
            np.mean,
            n_resamples=resamples,
            confidence_level=confidence,
            method="percentile",
            vectorized=True,
            rng=np.random.default_rng(seed),
        )
        low, high = float(result.confidence_interval.low), float(result.confidence_interval.high)
        means = result.bootstrap_distribution
        extreme = np.count_nonzero(np.abs(means - observed) >= abs(observed) - 1e-15)
        p_value = (extreme + 1) / (resamples + 1)
    return Comparison(
        a=names[0],
        b=names[1],
        users=len(a),
        mean_a=float(a.mean()),
        mean_b=float(b.mean()),
        difference=observed,
        ci_low=low,
        ci_high=high,
        p_value=float(p_value),
        confidence=confidence,
        resamples=resamples,
    )
