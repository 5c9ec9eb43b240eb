"""Ranking promotions for one visitor by expected value: pure functions, no Django.

expected value = affinity x conversion rate x margin, where

- affinity is the share of the visitor's interest (their recent items and their top-N list from the
  active recommender) that falls on the promotion's target products, plus a small floor so that a
  promotion matching nothing the visitor looked at can still be shown, divided by the same share
  for the average visitor (``baseline_affinity``, from the non-personalized list; 1 for a
  promotion on every product). The conversion rate below is measured on average visitors, so
  this ratio says how much more (or less) this visitor is drawn to the target than they were;
- the conversion rate is one Thompson draw from the promotion's posterior in the visitor's
  segment, whose Beta prior borrows from the promotion's overall rate (``bandits.for_segment``):
  thin segments follow the overall rate, and a new promotion's wide posterior gets it explored;
- margin is what an order of the best matching products leaves after the discount: price x
  (1 - discount share) - cost where the shop reports cost (profit), the discounted price otherwise.

The signal (per promotion, or for a whole slot by an experiment variant's ``{"ranking": ...}``):

- ``affinity`` (default): the expected value above, which counts every conversion while the
  promotion is shown, including those of visitors who would have bought anyway;
- ``uplift``: predicted uplift x margin, the uplift being the promotion's incremental conversion
  probability for this visitor (P(buy | shown) - P(buy | withheld), from a model trained on the
  promotion's randomized holdout). A negative uplift keeps its sign: such a promotion comes after
  every promotion expected to earn something, the least harmful first;
- ``blend``: margin x ((1 - BLEND_WEIGHT) x affinity x rate + BLEND_WEIGHT x uplift), halfway
  between "converts while shown" and "converts because shown" (both are probabilities of a purchase).

A promotion asked to rank by uplift or blend without a trained model ranks by affinity. Mixing
signals in one slot compares incremental with total conversions, which favours affinity; a slot is
best ranked by one signal (which a variant config sets for the whole slot).

Diversity: promotions are picked greedily, each pick discounting the others by how much of their
matched interest it already covers, so three promotions on the same candles do not fill a slot.
Only a positive value is discounted (a discount would make a negative one look better).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ..bandits import Arm, ArmStats, for_segment, posterior_draws
from ..recommenders import Reason
from .pricing import Target

#: Affinity of a promotion that matches none of the visitor's interests.
AFFINITY_FLOOR = 0.02
#: Interests (matching products) kept per promotion, for the margin and for display.
ITEMS_PER_PROMOTION = 4
AFFINITY = "affinity"
UPLIFT = "uplift"
BLEND = "blend"
SIGNALS = (AFFINITY, UPLIFT, BLEND)
#: The uplift's weight in the ``blend`` signal.
BLEND_WEIGHT = 0.5


@dataclass(frozen=True)
class Interest:
    """One product the visitor is likely to want, from their recommendations."""

    item_id: str
    score: float
    category: str = ""
    brand: str = ""
    price: float = 0.0
    cost: float | None = None
    #: Why the visitor is likely to want it (a recommendation's reason, or ``viewed``).
    reason: Reason | None = None


@dataclass(frozen=True)
class Candidate:
    """A promotion the visitor is eligible for, with its conversion statistics."""

    promotion_id: int
    target: Target
    discount_share: float = 0.0  # expected fraction of the price given away (0.2 for 20% off)
    overall: ArmStats = ArmStats()
    segment: ArmStats = ArmStats()
    #: The average visitor's affinity to the target (see the module's docstring); 1 means "everyone".
    baseline_affinity: float = 1.0
    #: This visitor's predicted uplift (incremental conversion probability); None without a model.
    uplift: float | None = None
    #: ``AFFINITY``, ``UPLIFT`` or ``BLEND``: what the promotion is ranked by.
    signal: str = AFFINITY

    @property
    def effective_signal(self) -> str:
        """The signal used: uplift and blend need a predicted uplift, else affinity."""
        return self.signal if self.signal in (UPLIFT, BLEND) and self.uplift is not None else AFFINITY


@dataclass(frozen=True)
class Ranked:
    promotion_id: int
    expected_value: float
    affinity: float
    rate: float
    margin: float
    interests: tuple[Interest, ...]
    uplift: float | None = None
    signal: str = AFFINITY


def _margin(interests: Sequence[Interest], discount_share: float) -> float:
    if not interests:
        return 1.0
    values = [
        max(i.price * (1 - discount_share) - (i.cost if i.cost is not None else 0.0), 0.0) or 1e-6 for i in interests
    ]
    return float(np.mean(values))


def score(candidate: Candidate, affinity: float, rate: float, margin: float) -> float:
    """The candidate's value before diversity, by its effective signal (see the module's docstring)."""
    signal = candidate.effective_signal
    if signal == UPLIFT:
        return candidate.uplift * margin
    if signal == BLEND:
        return margin * ((1 - BLEND_WEIGHT) * affinity * rate + BLEND_WEIGHT * candidate.uplift)
    return affinity * rate * margin


def _value(entry: tuple, covered: set[str], diversity: float) -> float:
    _candidate, _rate, _affinity, _margin, matched, _shown, value = entry
    if value <= 0:
        return value
    overlap = len(matched & covered) / len(matched) if matched else 0.0
    return value * (1 - diversity * overlap)


def rank(
    candidates: Sequence[Candidate],
    interests: Sequence[Interest],
    rng: np.random.Generator,
    *,
    limit: int = 3,
    prior_strength: float = 100.0,
    diversity: float = 0.5,
) -> list[Ranked]:
    """The best ``limit`` candidates for this visitor, best first (random only through the draws)."""
    if not candidates or limit <= 0:
        return []
    total = sum(max(i.score, 0.0) for i in interests) or 1.0
    arms = [Arm(str(c.promotion_id), c.overall) for c in candidates]
    segment_arms = for_segment(arms, {str(c.promotion_id): c.segment for c in candidates}, prior_strength)
    rates = posterior_draws(segment_arms, rng)
    scored = []
    for candidate, rate in zip(candidates, rates, strict=True):
        matched = [i for i in interests if candidate.target.covers(i.item_id, i.category, i.brand)]
        affinity = (sum(max(i.score, 0.0) for i in matched) / total + AFFINITY_FLOOR) / candidate.baseline_affinity
        shown = tuple(matched[:ITEMS_PER_PROMOTION])
        margin = _margin(shown or interests[:ITEMS_PER_PROMOTION], candidate.discount_share)
        value = score(candidate, affinity, float(rate), margin)
        scored.append((candidate, float(rate), affinity, margin, {i.item_id for i in matched}, shown, value))
    chosen: list[Ranked] = []
    covered: set[str] = set()
    while scored and len(chosen) < limit:
        best = max(scored, key=lambda entry: (_value(entry, covered, diversity), -entry[0].promotion_id))
        scored.remove(best)
        candidate, rate, affinity, margin, matched, shown, _value_alone = best
        chosen.append(
            Ranked(
                candidate.promotion_id,
                _value(best, covered, diversity),
                affinity,
                rate,
                margin,
                shown,
                candidate.uplift,
                candidate.effective_signal,
            )
        )
        covered |= matched
    return chosen


def baseline_affinity(target: Target, typical: Sequence[Interest]) -> float:
    """The average visitor's affinity to ``target``: the share of the non-personalized list's scores
    on it, plus the floor; exactly 1 for a promotion on every product."""
    if target.kind == "all":
        return 1.0
    total = sum(max(i.score, 0.0) for i in typical) or 1.0
    covered = sum(max(i.score, 0.0) for i in typical if target.covers(i.item_id, i.category, i.brand))
    return min(covered / total + AFFINITY_FLOOR, 1.0)


def stats_from(row: Mapping[str, float] | Sequence[float] | None) -> ArmStats:
    """ArmStats from a stored (visitors, conversions, revenue, revenue squares) row."""
    if not row:
        return ArmStats()
    values = list(row.values()) if isinstance(row, Mapping) else list(row)
    visitors, conversions = int(values[0]), int(values[1])
    return ArmStats(visitors, min(conversions, visitors), float(values[2]), float(values[3]))
