"""Bandit policies behind one interface: Thompson sampling, epsilon-greedy and a fixed split.

Each policy answers ``sample(arms, rng)`` (the arm for one visitor) and ``allocation(arms, rng)``
(the share of traffic each arm gets, which is also the propensity to log for inverse-propensity
estimates). All three skip switched-off arms and honour the burn-in and the minimum share the
same way, so the regret benchmark compares the learning rules and nothing else.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from promotions.bandits import thompson
from promotions.bandits.arms import Arm
from promotions.bandits.shares import active_arms, argmax, floor_shares, in_burn_in, spread


class Policy(Protocol):
    def sample(self, arms: Sequence[Arm], rng: np.random.Generator) -> Arm: ...

    def allocation(self, arms: Sequence[Arm], rng: np.random.Generator) -> dict[str, float]: ...


def _observed_means(arms: Sequence[Arm], metric: str) -> np.ndarray:
    """Each arm's observed mean; an arm without visitors counts as +inf so that it is tried first."""
    thompson.check_metric(metric)
    totals = [arm.stats.conversions if metric == "conversion" else arm.stats.revenue for arm in arms]
    visitors = np.array([arm.stats.visitors for arm in arms], dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(visitors > 0, np.array(totals, dtype=float) / visitors, np.inf)


@dataclass(frozen=True)
class ThompsonSampling:
    """Thompson sampling (see ``promotions.bandits.thompson``) with its settings bound."""

    metric: str = "conversion"
    burn_in: int = 0
    min_share: float = 0.0
    draws: int = 10_000

    def sample(self, arms: Sequence[Arm], rng: np.random.Generator) -> Arm:
        return thompson.sample(arms, rng, metric=self.metric, burn_in=self.burn_in, min_share=self.min_share)

    def allocation(self, arms: Sequence[Arm], rng: np.random.Generator) -> dict[str, float]:
        return thompson.allocation(arms, self.draws, rng, self.min_share, self.burn_in, metric=self.metric)


@dataclass(frozen=True)
class EpsilonGreedy:
    """With probability epsilon a uniformly random arm, otherwise the best observed mean so far."""

    epsilon: float = 0.1
    metric: str = "conversion"
    burn_in: int = 0
    min_share: float = 0.0

    def __post_init__(self) -> None:
        if not 0 <= self.epsilon <= 1:
            raise ValueError(f"epsilon must be between 0 and 1, got {self.epsilon}")

    def _exploration(self, arm_count: int) -> float:
        # The minimum share is met by exploring at least min_share x arms of the time.
        return max(self.epsilon, self.min_share * arm_count)

    def sample(self, arms: Sequence[Arm], rng: np.random.Generator) -> Arm:
        active = active_arms(arms, self.min_share, self.burn_in)
        if in_burn_in(active, self.burn_in) or rng.random() < self._exploration(len(active)):
            return active[int(rng.integers(len(active)))]
        return active[argmax(_observed_means(active, self.metric), rng)]

    def allocation(self, arms: Sequence[Arm], rng: np.random.Generator) -> dict[str, float]:
        """Exact shares (no draws): exploration spread evenly, the rest split among the tied leaders."""
        active = active_arms(arms, self.min_share, self.burn_in)
        count = len(active)
        if in_burn_in(active, self.burn_in):
            return spread(arms, active, np.full(count, 1 / count))
        means = _observed_means(active, self.metric)
        leaders = means == means.max()
        explore = self._exploration(count)
        return spread(arms, active, explore / count + (1 - explore) * leaders / leaders.sum())


@dataclass(frozen=True)
class FixedSplit:
    """Traffic split by fixed weights among the active arms (an arm not named weighs 1): the A/B baseline."""

    weights: Mapping[str, float] = field(default_factory=dict)
    min_share: float = 0.0

    def _weights(self, arms: Sequence[Arm]) -> tuple[list[Arm], list[float]]:
        # Plain Python lists: this runs for every visitor and numpy's calls cost more on a few arms.
        active = active_arms(arms, self.min_share)
        weights = [float(self.weights.get(arm.key, 1.0)) for arm in active]
        if min(weights) < 0 or sum(weights) <= 0:
            raise ValueError("split weights must be non-negative with a positive total")
        if self.min_share > 0:
            weights = floor_shares(np.array(weights) / sum(weights), self.min_share).tolist()
        return active, weights

    def sample(self, arms: Sequence[Arm], rng: np.random.Generator) -> Arm:
        active, weights = self._weights(arms)
        left = rng.random() * sum(weights)
        for arm, weight in zip(active, weights, strict=True):
            left -= weight
            if left < 0:
                return arm
        return active[-1]  # rounding left a sliver above the weights' sum

    def allocation(self, arms: Sequence[Arm], rng: np.random.Generator) -> dict[str, float]:
        active, weights = self._weights(arms)
        total = sum(weights)
        return spread(arms, active, [weight / total for weight in weights])
