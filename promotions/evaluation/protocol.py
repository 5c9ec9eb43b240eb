"""Scoring one model under the protocol: fit on train, a completed list per evaluated user, metrics.

The completion (padding) rule is the protocol's: a list is first cleaned (only items of I, none of
the user's train items, no repeats, at most K), then filled in order from the popularity ranking.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from promotions.recommenders import ItemInfo, Recommender, Weighting

from .metrics import coverage, user_metrics
from .split import Split

#: Evaluated users with at most this many distinct train items form the cold-user slice.
COLD_USER_MAX_ITEMS = 2
#: Ground-truth items with at most this many distinct train users form the cold-item slice.
COLD_ITEM_MAX_USERS = 5
METRICS = ("ndcg", "recall", "hr", "precision", "map")

Progress = Callable[[int, int], None]


@dataclass
class ModelResult:
    name: str
    params: dict[str, Any]
    metrics: dict[str, float]
    cold_users: dict[str, float]
    cold_items: dict[str, float]
    fit_seconds: float
    ms_per_user: float
    #: NDCG@K of each evaluated user, in user id order (for paired comparisons when tuning).
    user_ndcg: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0))
    #: Next-item figures within sessions (``session.next_item``), when they were measured.
    sessions: dict[str, Any] | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            **({"sessions": self.sessions} if self.sessions is not None else {}),
            **self.metrics,
            "cold_users": self.cold_users,
            "cold_items": self.cold_items,
            "fit_seconds": self.fit_seconds,
            "ms_per_user": self.ms_per_user,
            "params": self.params,
        }


def complete(ranked: Sequence[str], split: Split, user: str, k: int) -> list[str]:
    """The protocol's list R(u): the model's valid items in order, then the popularity ranking."""
    seen, known = split.seen.get(user, set()), split.item_users
    result: list[str] = []
    for item in (*ranked, *split.popularity):
        if len(result) == k:
            break
        if item in known and item not in seen and item not in result:
            result.append(item)
    return result


def score_lists(split: Split, lists: dict[str, list[str]], k: int) -> tuple[dict, dict, dict, np.ndarray]:
    """Overall metrics (with coverage), the cold-user and cold-item slices, and per-user NDCG."""
    per_user = {user: user_metrics(lists[user], truth, k) for user, truth in split.truth.items()}
    overall = _mean(per_user.values())
    overall["coverage"] = coverage(lists.values(), len(split.items))
    cold_users = [user for user in split.truth if len(split.seen[user]) <= COLD_USER_MAX_ITEMS]
    cold_user_slice = {**_mean(per_user[user] for user in cold_users), "users": len(cold_users)}
    hits, recalls = [], []
    for user, truth in split.truth.items():
        cold = {item for item in truth if split.item_users[item] <= COLD_ITEM_MAX_USERS}
        if cold:
            found = len(cold.intersection(lists[user][:k]))
            hits.append(1.0 if found else 0.0)
            recalls.append(found / len(cold))
    cold_item_slice = {
        "hr": float(np.mean(hits)) if hits else 0.0,
        "recall": float(np.mean(recalls)) if recalls else 0.0,
        "users": len(hits),
    }
    user_ndcg = np.array([per_user[user]["ndcg"] for user in split.truth])
    return overall, cold_user_slice, cold_item_slice, user_ndcg


def _mean(rows: Any) -> dict[str, float]:
    rows = list(rows)
    return {name: float(np.mean([row[name] for row in rows])) if rows else 0.0 for name in METRICS}


def evaluate(
    model: Recommender,
    split: Split,
    items: Sequence[ItemInfo] = (),
    k: int = 10,
    weighting: Weighting | None = None,
    progress: Progress | None = None,
) -> ModelResult:
    """Fit ``model`` on the split's train rows and score its lists for the evaluated users.

    Only items of I are passed on (the lists must come from I). ``progress(done, total)`` is
    called while lists are made.
    """
    catalogue = [item for item in items if item.item_id in split.item_users]
    interactions = split.train.to_interactions(weighting)
    started = time.perf_counter()
    model.fit(interactions, catalogue)
    return evaluate_fitted(model, split, k, time.perf_counter() - started, progress)


def evaluate_fitted(
    model: Recommender, split: Split, k: int = 10, fit_seconds: float = 0.0, progress: Progress | None = None
) -> ModelResult:
    """Score the lists of a model already fitted on the split's train rows (``evaluate`` without the fit)."""
    lists, spent = {}, 0.0
    users = list(split.truth)
    for done, user in enumerate(users, start=1):
        started = time.perf_counter()
        recommended = model.recommend(user_id=user, k=k)
        spent += time.perf_counter() - started
        lists[user] = complete([r.item_id for r in recommended], split, user, k)
        if progress is not None:
            progress(done, len(users))
    overall, cold_users, cold_items, user_ndcg = score_lists(split, lists, k)
    return ModelResult(
        name=model.name,
        params=model.get_params(),
        metrics=overall,
        cold_users=cold_users,
        cold_items=cold_items,
        fit_seconds=fit_seconds,
        ms_per_user=1000.0 * spent / max(len(users), 1),
        user_ndcg=user_ndcg,
    )
