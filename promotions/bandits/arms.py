"""Arms of a bandit: additive sufficient statistics, priors, and the per-segment (contextual) view.

An arm is summarised by counts and sums that add together, like GrowthBook's gbstats, so daily
aggregates merge into the whole run without keeping one row per visitor. The statistics cover
both metrics a bandit can optimise: conversion (visitors, conversions) and revenue per visitor
(visitors, sum and sum of squares of each visitor's revenue).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class ArmStats:
    """Visitors shown the arm, how many of them converted, and the sum and sum of squares of their revenue."""

    visitors: int = 0
    conversions: int = 0
    revenue: float = 0.0
    revenue_squares: float = 0.0

    def __post_init__(self) -> None:
        if self.visitors < 0 or not 0 <= self.conversions <= self.visitors:
            raise ValueError(f"need 0 <= conversions <= visitors, got {self.conversions} of {self.visitors}")
        if self.revenue_squares < 0:
            raise ValueError("the sum of squared revenue cannot be negative")

    @classmethod
    def from_outcomes(
        cls, converted: Sequence[bool] | np.ndarray, revenue: Sequence[float] | np.ndarray | None = None
    ) -> ArmStats:
        """Statistics of one row per visitor (revenue defaults to none)."""
        converted = np.asarray(converted, dtype=bool)
        values = np.zeros(len(converted)) if revenue is None else np.asarray(revenue, dtype=float)
        if values.shape != converted.shape:
            raise ValueError("converted and revenue must have one value per visitor")
        return cls(len(converted), int(converted.sum()), float(values.sum()), float(np.square(values).sum()))

    def __add__(self, other: ArmStats) -> ArmStats:
        return ArmStats(
            self.visitors + other.visitors,
            self.conversions + other.conversions,
            self.revenue + other.revenue,
            self.revenue_squares + other.revenue_squares,
        )

    @property
    def conversion_rate(self) -> float:
        return self.conversions / self.visitors if self.visitors else math.nan

    @property
    def revenue_per_visitor(self) -> float:
        return self.revenue / self.visitors if self.visitors else math.nan


@dataclass(frozen=True)
class Prior:
    """What is believed about an arm before its own data.

    Conversion: a Beta(alpha, beta) prior, uniform by default. Revenue per visitor: a mean
    ``revenue_mean`` worth ``revenue_weight`` pseudo-visitors and a unit variance
    ``revenue_variance`` worth ``revenue_variance_weight`` pseudo-visitors (``None``: as many as
    the mean); weight 0 is no revenue prior. The two weights are apart because revenue is mostly
    zeros: an arm whose first visitors all spent nothing has no spread of its own, and must keep a
    plausible variance for a while without its mean being pulled far.
    """

    alpha: float = 1.0
    beta: float = 1.0
    revenue_weight: float = 0.0
    revenue_mean: float = 0.0
    revenue_variance: float = 0.0
    revenue_variance_weight: float | None = None

    def __post_init__(self) -> None:
        if not (self.alpha > 0 and self.beta > 0):
            raise ValueError(f"a Beta prior needs alpha > 0 and beta > 0, got {self.alpha}, {self.beta}")
        if min(self.revenue_weight, self.revenue_variance, self.revenue_variance_weight or 0) < 0:
            raise ValueError("the revenue prior's weights and variance cannot be negative")

    @classmethod
    def borrowing(cls, overall: ArmStats, strength: float, base: Prior | None = None) -> Prior:
        """A prior centred on the posterior of ``overall`` (``base`` updated with it), worth ``strength`` visitors.

        This is how a thin segment borrows from a well-measured whole: alpha = strength x overall
        rate, beta = strength x (1 - overall rate), and the revenue prior counts as ``strength``
        visitors with the overall mean and variance. The weight never exceeds what the overall
        posterior itself rests on, so a prior is never surer than its source.
        """
        if strength <= 0:
            raise ValueError(f"prior strength must be positive, got {strength}")
        base = base or cls()
        support = base.alpha + base.beta + overall.visitors
        rate = (base.alpha + overall.conversions) / support
        weight = min(strength, support)
        revenue = RevenuePosterior.of(overall, base)
        return cls(
            alpha=weight * rate,
            beta=weight * (1 - rate),
            revenue_weight=min(strength, revenue.weight),
            revenue_mean=revenue.mean,
            revenue_variance=revenue.unit_variance,
        )


@dataclass(frozen=True)
class Arm:
    """One option of a bandit: its key, its statistics so far, whether it may get traffic, its prior.

    ``active=False`` switches the arm off (for instance a promotion whose discount budget is spent):
    it then gets no traffic. ``prior=None`` means the defaults: a uniform Beta prior on conversion,
    and for revenue a one-visitor prior pooled over the arms being compared (see ``thompson``).
    """

    key: str
    stats: ArmStats = field(default_factory=ArmStats)
    active: bool = True
    prior: Prior | None = None

    def __add__(self, other: ArmStats | Arm) -> Arm:
        """More statistics for this arm, which keeps its switch and prior; another ``Arm`` needs the same key."""
        if isinstance(other, Arm):
            if other.key != self.key:
                raise ValueError(f"cannot merge arm {other.key!r} into arm {self.key!r}")
            other = other.stats
        return Arm(self.key, self.stats + other, self.active, self.prior)


@dataclass(frozen=True)
class RevenuePosterior:
    """Normal posterior of an arm's revenue per visitor: the conjugate normal-inverse-chi-squared update.

    With the prior's mean m0 worth k0 pseudo-visitors and unit variance v0 worth w0, and the arm's
    n visitors with mean x and sum of squared deviations SS:
    weight k = k0 + n, mean = (k0 m0 + n x) / k,
    unit variance = (w0 v0 + SS + k0 n / k (x - m0)^2) / (w0 + n - 1),
    standard error of the mean sqrt(unit variance / k). While w0 + n - 1 <= 0 nothing is known
    about the spread: the standard error is infinite. With k0 = w0 this is the same as pooling
    the prior's pseudo-visitors with the arm's own.
    """

    weight: float
    mean: float
    unit_variance: float
    standard_error: float

    @staticmethod
    def moments(stats: ArmStats, prior: Prior) -> tuple[float, float, float, float]:
        """(weight, mean, unit variance, standard error) on plain floats: this runs on every request."""
        prior_weight, prior_mean = prior.revenue_weight, prior.revenue_mean
        variance_weight = prior_weight if prior.revenue_variance_weight is None else prior.revenue_variance_weight
        visitors = stats.visitors
        weight = prior_weight + visitors
        own_mean = stats.revenue / visitors if visitors else 0.0
        mean = (prior_weight * prior_mean + stats.revenue) / weight if weight else 0.0
        freedom = variance_weight + visitors - 1
        if weight == 0 or freedom <= 0:
            return weight, mean, 0.0, math.inf
        # max(): rounding can make a zero spread very slightly negative.
        own_squares = max(stats.revenue_squares - stats.revenue * own_mean, 0.0)
        shift = prior_weight * visitors / weight * (own_mean - prior_mean) ** 2
        variance = (variance_weight * prior.revenue_variance + own_squares + shift) / freedom
        return weight, mean, variance, math.sqrt(variance / weight)

    @classmethod
    def of(cls, stats: ArmStats, prior: Prior) -> RevenuePosterior:
        return cls(*cls.moments(stats, prior))


def for_segment(arms: Sequence[Arm], segment_stats: Mapping[str, ArmStats], prior_strength: float) -> list[Arm]:
    """The arms as seen within one visitor segment (the contextual bandit).

    Each arm keeps its key and switch, takes the segment's statistics (none if the segment has no
    data for it) and, as prior, its own overall posterior scaled down to ``prior_strength``
    visitors: a thin segment follows the overall figures until its own data say otherwise. The
    segment's visitors are also part of the overall figures, so they count twice, but in the
    prior only with the weight prior_strength / overall visitors: negligible once the arm is
    well measured, and simpler than one leave-one-segment-out prior per segment.
    """
    return [
        Arm(
            arm.key,
            segment_stats.get(arm.key, ArmStats()),
            arm.active,
            Prior.borrowing(arm.stats, prior_strength, arm.prior),
        )
        for arm in arms
    ]
