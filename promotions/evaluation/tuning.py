"""Hyper-parameter search on validation splits inside the training rows (never on the test part).

Each model has a small grid: its defaults first, then one change at a time, simplest first.
Candidates are scored over several time windows (cuts at the 60th, 70th and 80th percentile of
the train rows), so one unrepresentative period cannot decide alone; among candidates within
one standard error of the best (paired per-user NDCG differences) the earliest is kept. The deep
models' grids are smaller and bounded in time (``BUDGETS``).
"""

from __future__ import annotations

import time
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
    # The deep models: a few minutes per fit on two cores, so three candidates and a time budget.
    "neural": [{}, {"epochs": 6}, {"temperature": 0.05}],
    "sequential": [{}, {"epochs": 20}, {"max_length": 20}],
}

#: Seconds after which no further candidate is tried (the defaults always are). Reaching it makes
#: the choice depend on the machine's speed, so it is set well above the grid's normal time.
BUDGETS: dict[str, float] = {"neural": 1800.0, "sequential": 1800.0}


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
    budget_seconds: float | None = None,
) -> TuningResult:
    """Score ``make(**params)`` for each candidate of ``grid`` on the validation ``windows`` and
    pick one with ``choose`` (any ``Recommender``: ours, or a peer library behind an adapter).
    Once ``budget_seconds`` have passed, the remaining candidates are skipped."""
    per_user = []
    started = time.monotonic()
    for number, params in enumerate(grid):
        if number and budget_seconds is not None and time.monotonic() - started > budget_seconds:
            if progress is not None:
                progress(f"{label}: time budget of {budget_seconds:.0f} s spent, {len(grid) - number} left untried")
            grid = grid[:number]
            break
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
    grid = GRIDS.get(name, [{}])
    return search(MODELS[name], grid, windows, items, k, progress, label=name, budget_seconds=BUDGETS.get(name))
