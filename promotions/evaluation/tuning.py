"""Hyper-parameter search on validation splits inside the training rows (never on the test part).

Each model has a small grid: its defaults first, then one change at a time, simplest first.
Candidates are scored over several time windows (cuts at the 60th, 70th and 80th percentile of
the train rows), so one unrepresentative period cannot decide alone; among candidates within
one standard error of the best (paired per-user NDCG differences) the earliest is kept.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from promotions.recommenders import MODELS, ItemInfo, Recommender

from .protocol import evaluate
from .split import Split

WINDOWS = (0.6, 0.7, 0.8)

GRIDS: dict[str, list[dict[str, Any]]] = {
    "popularity": [{}],
    "trending": [{}, {"half_life_days": 7.0}, {"half_life_days": 30.0}, {"half_life_days": 90.0}],
    "content": [{}, {"price_weight": 0.0}, {"category_weight": 1.0, "brand_weight": 1.0}, {"text_weight": 2.0}],
    "item_knn": [
        {},
        {"weighting": "none"},
        {"weighting": "tfidf"},
        {"neighbours": 30},
        {"neighbours": 300},
        {"shrinkage": 0.0},
        {"half_life_days": 60.0},
    ],
    "user_knn": [{}, {"neighbours": 20}, {"neighbours": 100}, {"neighbours": 200}, {"half_life_days": 60.0}],
    "ease": [{}, {"l2": 200.0}, {"l2": 1000.0}, {"half_life_days": 30.0}, {"half_life_days": 90.0}],
    "hybrid": [
        {},
        {"freshness": 0.0},
        {"content_weight": 0.0},
        {"item_knn_weight": 0.0},
        {"ease_weight": 0.5},
        {"freshness": 2.0},
    ],
}


@dataclass(frozen=True)
class TuningResult:
    params: dict[str, Any]
    #: (candidate, mean validation NDCG over the windows' users), in grid order.
    scores: list[tuple[dict[str, Any], float]]


def choose(per_user: Sequence[np.ndarray]) -> int:
    """The earliest candidate whose per-user NDCG is within one standard error of the best's."""
    means = [float(values.mean()) for values in per_user]
    best = int(np.argmax(means))
    for candidate, values in enumerate(per_user[:best]):
        difference = per_user[best] - values
        standard_error = difference.std(ddof=1) / np.sqrt(len(difference)) if len(difference) > 1 else 0.0
        if difference.mean() <= standard_error:
            return candidate
    return best


def search(
    make: Callable[..., Recommender],
    grid: Sequence[dict[str, Any]],
    windows: Sequence[Split],
    items: Sequence[ItemInfo] = (),
    k: int = 10,
    progress: Callable[[str], None] | None = None,
    label: str = "",
) -> TuningResult:
    """Score ``make(**params)`` for each candidate of ``grid`` on the validation ``windows`` and
    pick one with ``choose`` (any ``Recommender``: ours, or a peer library behind an adapter)."""
    per_user = []
    for params in grid:
        results = [evaluate(make(**params), window, items, k) for window in windows]
        per_user.append(np.concatenate([result.user_ndcg for result in results]))
        if progress is not None:
            progress(f"{label} {params or 'defaults'}: validation NDCG@{k} {per_user[-1].mean():.4f}")
    chosen = grid[choose(per_user)]
    return TuningResult(chosen, [(params, float(values.mean())) for params, values in zip(grid, per_user, strict=True)])


def tune(
    name: str,
    windows: Sequence[Split],
    items: Sequence[ItemInfo] = (),
    k: int = 10,
    progress: Callable[[str], None] | None = None,
) -> TuningResult:
    """Score the model's grid on the validation ``windows`` and pick its parameters."""
    return search(MODELS[name], GRIDS.get(name, [{}]), windows, items, k, progress, label=name)
