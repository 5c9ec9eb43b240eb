"""The protocol's ranking metrics for one user's list ``ranked`` (positions 1..K) and truth ``G``."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence


def hit_rate(ranked: Sequence[str], truth: set[str]) -> float:
    return 1.0 if any(item in truth for item in ranked) else 0.0


def precision(ranked: Sequence[str], truth: set[str], k: int) -> float:
    return sum(item in truth for item in ranked[:k]) / k


def recall(ranked: Sequence[str], truth: set[str], k: int) -> float:
    return sum(item in truth for item in ranked[:k]) / len(truth)


def ndcg(ranked: Sequence[str], truth: set[str], k: int) -> float:
    """Sum over hits of 1/log2(i+1), over the same sum for min(|G|, K) hits at the top."""
    gain = sum(1.0 / math.log2(i + 1) for i, item in enumerate(ranked[:k], start=1) if item in truth)
    ideal = sum(1.0 / math.log2(i + 1) for i in range(1, min(len(truth), k) + 1))
    return gain / ideal


def average_precision(ranked: Sequence[str], truth: set[str], k: int) -> float:
    """(1/min(|G|,K)) * sum over hit positions i of Precision@i."""
    hits, total = 0, 0.0
    for i, item in enumerate(ranked[:k], start=1):
        if item in truth:
            hits += 1
            total += hits / i
    return total / min(len(truth), k)


def coverage(lists: Iterable[Sequence[str]], n_items: int) -> float:
    """|union of all lists| / |I| (not a mean)."""
    return len({item for ranked in lists for item in ranked}) / n_items


def user_metrics(ranked: Sequence[str], truth: set[str], k: int) -> dict[str, float]:
    return {
        "ndcg": ndcg(ranked, truth, k),
        "recall": recall(ranked, truth, k),
        "hr": hit_rate(ranked[:k], truth),
        "precision": precision(ranked, truth, k),
        "map": average_precision(ranked, truth, k),
    }
