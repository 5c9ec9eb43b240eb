"""How training chooses the model it activates, on validation windows inside the training data.

Pure, like the rest of ``promotions.evaluation``: the training pipeline and the rolling-origin
evaluation (``rolling``) run the same rule, so the table of "as the pipeline selects" is what a shop
would have served.

1. Every candidate is scored on each window (the protocol's split at the 60th, 70th and 80th
   percentile of the data: the last is the **most recent** window).
2. A model with a freshness factor (the hybrid) gets its strength from the windows
   (``tune_freshness``): each strength of ``FRESHNESS_GRID`` is scored on the same fit, and a
   strength is kept only where its NDCG gain over no freshness, less one standard error of that
   gain across the windows, is positive; the largest such bound wins. Windows that disagree
   (a gain in one season, a loss in the next) thus shrink the strength to none.
3. ``choose``: the baselines (popularity, trending) stay active unless a model beats each of
   them both on average over the windows and on the most recent window; among the models that
   do, the best on average wins (ties: the earlier, simpler one). Without such a model the better
   baseline on average is kept.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from promotions.recommenders import MODELS, ItemInfo, Recommender, Weighting

from .protocol import evaluate, evaluate_fitted
from .split import Split

#: The models kept active unless another beats them on average and on the most recent window.
BASELINES = ("popularity", "trending")
#: Freshness strengths tried for a model that has one; 0 (none) first: the value shrunk towards.
FRESHNESS_GRID = (0.0, 0.5, 1.0)
METRICS = ("ndcg", "recall", "hr", "precision", "map", "coverage")


@dataclass
class WindowScores:
    """One candidate over the windows: user-weighted means, and NDCG per window (oldest first)."""

    metrics: dict[str, float]
    ndcg: list[float]
    users: list[int]
    fit_seconds: float
    params: dict[str, Any] = field(default_factory=dict)
    #: For a tuned freshness: the NDCG gain of each strength over none, per window.
    freshness_gains: dict[str, list[float]] | None = None

    @property
    def latest(self) -> float:
        return self.ndcg[-1]

    def as_figures(self) -> dict[str, Any]:
        """The figures the training pipeline stores per candidate."""
        return {
            **self.metrics,
            "fit_seconds": self.fit_seconds,
            "users": sum(self.users),
            "latest": self.latest,
            "windows_ndcg": self.ndcg,
        }


def _combine(results: Sequence[Any], users: list[int], fit_seconds: float, params: dict[str, Any]) -> WindowScores:
    total = max(sum(users), 1)
    metrics = {
        metric: sum(r.metrics[metric] * n for r, n in zip(results, users, strict=True)) / total for metric in METRICS
    }
    return WindowScores(metrics, [float(r.metrics["ndcg"]) for r in results], users, fit_seconds, params)


def score_windows(
    name: str,
    params: dict[str, Any],
    windows: Sequence[Split],
    items: Sequence[ItemInfo] = (),
    k: int = 10,
    weighting: Weighting | None = None,
) -> WindowScores:
    """The model with these parameters fitted and scored on each window."""
    if not windows:
        raise ValueError("no validation window to score on")
    results = [evaluate(MODELS[name](**params), window, items, k, weighting) for window in windows]
    fit = sum(result.fit_seconds for result in results) / len(results)
    return _combine(results, [len(window.truth) for window in windows], fit, dict(params))


def has_freshness(name: str) -> bool:
    """Whether the model has a freshness strength that can change on a fitted model."""
    return hasattr(MODELS[name], "with_freshness") and "freshness" in MODELS[name]().get_params()


def shrunk_choice(gains: dict[float, list[float]]) -> float:
    """The strength whose mean gain over none, less one standard error across windows, is largest
    and positive; 0 (none) otherwise. With a single window there is no spread to judge: none."""
    best, best_bound = 0.0, 0.0
    for strength, values in gains.items():
        if strength == 0 or len(values) < 2:
            continue
        mean = float(np.mean(values))
        bound = mean - float(np.std(values, ddof=1)) / math.sqrt(len(values))
        if bound > best_bound:
            best, best_bound = strength, bound
    return best


def tune_freshness(
    name: str,
    windows: Sequence[Split],
    items: Sequence[ItemInfo] = (),
    k: int = 10,
    weighting: Weighting | None = None,
    grid: Sequence[float] = FRESHNESS_GRID,
) -> WindowScores:
    """Fit once per window, score each strength of ``grid`` on that fit, keep ``shrunk_choice``."""
    if not windows:
        raise ValueError("no validation window to choose a freshness on")
    by_strength: dict[float, list[Any]] = {strength: [] for strength in grid}
    fit_seconds = 0.0
    for window in windows:
        model = MODELS[name](freshness=grid[0])
        result = evaluate(model, window, items, k, weighting)
        fit_seconds += result.fit_seconds
        by_strength[grid[0]].append(result)
        for strength in grid[1:]:
            by_strength[strength].append(evaluate_fitted(_refreshed(model, strength), window, k, result.fit_seconds))
    base = [r.metrics["ndcg"] for r in by_strength[grid[0]]]
    gains = {s: [r.metrics["ndcg"] - b for r, b in zip(rs, base, strict=True)] for s, rs in by_strength.items()}
    chosen = shrunk_choice({s: g for s, g in gains.items() if s != grid[0]})
    chosen = chosen if chosen in by_strength else grid[0]
    scores = _combine(
        by_strength[chosen], [len(w.truth) for w in windows], fit_seconds / len(windows), {"freshness": chosen}
    )
    scores.freshness_gains = {str(s): g for s, g in gains.items()}
    return scores


def _refreshed(model: Recommender, strength: float) -> Recommender:
    return model.with_freshness(strength)  # type: ignore[attr-defined]


def candidate_scores(
    name: str,
    windows: Sequence[Split],
    items: Sequence[ItemInfo] = (),
    k: int = 10,
    weighting: Weighting | None = None,
) -> WindowScores:
    """A candidate as selection sees it: its freshness tuned where it has one, else its defaults."""
    if has_freshness(name):
        return tune_freshness(name, windows, items, k, weighting)
    return score_windows(name, {}, windows, items, k, weighting)


def choose(candidates: dict[str, dict[str, Any]], baselines: Sequence[str] = BASELINES) -> tuple[str, str]:
    """(name, why) from each candidate's ``ndcg`` (mean over windows) and ``latest`` (the most
    recent window's; the mean where missing), candidates in simplest-first order."""

    def latest(name: str) -> float:
        return float(candidates[name].get("latest", candidates[name]["ndcg"]))

    present = [name for name in candidates if name in baselines]
    reference = max(present, key=lambda name: candidates[name]["ndcg"]) if present else None
    winners = [
        name
        for name in candidates
        if name not in baselines
        and all(candidates[name]["ndcg"] > candidates[b]["ndcg"] and latest(name) > latest(b) for b in present)
    ]
    if winners:
        best = max(winners, key=lambda name: candidates[name]["ndcg"])
        return best, "beats the baselines on average and on the most recent window"
    if reference is not None:
        return reference, "no model beats the baselines both on average and on the most recent window"
    return max(candidates, key=lambda name: candidates[name]["ndcg"]), "best on average"


def select(
    names: Sequence[str],
    windows: Sequence[Split],
    items: Sequence[ItemInfo] = (),
    k: int = 10,
    weighting: Weighting | None = None,
) -> tuple[str, dict[str, Any], dict[str, WindowScores]]:
    """The pipeline's choice among ``names`` (popularity is always added first): (name, its
    parameters, every candidate's scores)."""
    scores = {
        name: candidate_scores(name, windows, items, k, weighting) for name in dict.fromkeys(["popularity", *names])
    }
    chosen, _why = choose({name: s.as_figures() for name, s in scores.items()})
    return chosen, scores[chosen].params, scores
