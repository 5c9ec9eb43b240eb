"""Diversity in a recommendation list: maximal marginal relevance (MMR) over categories, and the
intra-list diversity that measures it.

``mmr`` re-ranks a scored list greedily: each next item maximizes
``(1 - diversity) * score / best score - diversity * [its category is already in the list]``.
``diversity=0`` keeps the order; 1 takes one item per category first, by score. Items without a
category are never penalized (nothing says they repeat another).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from itertools import combinations


def mmr(
    ranked: Sequence[tuple[Hashable, float]], categories: Mapping[Hashable, str], k: int, diversity: float = 0.0
) -> list:
    """The top ``k`` of ``ranked`` ((item, score), best first) re-ranked for category diversity."""
    if not 0.0 <= diversity <= 1.0:
        raise ValueError(f"diversity must be between 0 and 1, not {diversity}")
    left = list(ranked)
    best = max((score for _, score in left), default=0.0)
    scale = best if best > 0 else 1.0
    chosen: list = []
    shown: set[str] = set()
    while left and len(chosen) < k:
        # max() keeps the first of equal values: ties go to the item ranked higher before.
        position = max(
            range(len(left)),
            key=lambda n: (
                (1.0 - diversity) * left[n][1] / scale
                - diversity * (categories.get(left[n][0], "") in shown and bool(categories.get(left[n][0])))
            ),
        )
        item, _ = left.pop(position)
        chosen.append(item)
        if categories.get(item):
            shown.add(categories[item])
    return chosen


def intra_list_diversity(items: Sequence[str], categories: Mapping[str, str]) -> float:
    """The share of the list's pairs of categorized items whose categories differ (0 for fewer than two)."""
    known = [categories[item] for item in items if categories.get(item)]
    pairs = list(combinations(known, 2))
    return sum(a != b for a, b in pairs) / len(pairs) if pairs else 0.0
