"""Protocol version 2, "buy-again" (``shared/protocols/recsys-evaluation-v2.md``).

Version 1 scores discovery only; version 2 keeps the user's own train items in the ground truth
and allows them in the lists, and reports a repeat and a new slice beside the overall figures.
The split (steps 1-2), the metrics and K are version 1's, so this builds on ``temporal_split``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from promotions.recommenders import ItemInfo, Recommender, Weighting

from .metrics import coverage, user_metrics
from .protocol import METRICS, Progress
from .report import as_json, split_summary
from .split import Split

PROTOCOL_V2 = "temporal-v2"

#: One user's train history of an item: (item id, number of the user's train rows, latest timestamp).
Bought = tuple[str, int, float]


@dataclass(frozen=True)
class RepeatSplit:
    """Version 1's split with version 2's ground truth and each evaluated user's train history."""

    base: Split
    #: G(u) of version 2 (the user's train items kept), non-empty only, in user id order.
    truth: dict[str, set[str]]
    #: Grep(u) and Gnew(u), non-empty only.
    repeat: dict[str, set[str]]
    new: dict[str, set[str]]
    #: The evaluated users' distinct train items with their row counts and latest timestamps.
    history: dict[str, list[Bought]]


def repeat_split(split: Split) -> RepeatSplit:
    """Steps 3 (changed) and the slices, computed on the integer codes of the split's logs."""
    train, test = split.train, split.test
    n_items = len(train.item_ids)
    # Group the train rows by (user, item): count and latest timestamp.
    keys = train.user_codes.astype(np.int64) * n_items + train.item_codes
    order = np.lexsort((train.timestamps, keys))
    sorted_keys = keys[order]
    groups, first, counts = np.unique(sorted_keys, return_index=True, return_counts=True)
    latest = train.timestamps[order][first + counts - 1]
    train_users = np.zeros(len(train.user_ids), dtype=bool)
    train_users[train.user_codes] = True
    train_items = np.zeros(n_items, dtype=bool)
    train_items[train.item_codes] = True
    # G(u): distinct test pairs of a train user and a train item.
    known = train_users[test.user_codes] & train_items[test.item_codes]
    test_keys = np.unique(test.user_codes[known].astype(np.int64) * n_items + test.item_codes[known])
    truth: dict[str, set[str]] = {}
    repeat: dict[str, set[str]] = {}
    new: dict[str, set[str]] = {}
    is_repeat = np.isin(test_keys, groups)
    for key, again in zip(test_keys.tolist(), is_repeat.tolist(), strict=True):
        user, item = str(train.user_ids[key // n_items]), str(train.item_ids[key % n_items])
        truth.setdefault(user, set()).add(item)
        (repeat if again else new).setdefault(user, set()).add(item)
    history: dict[str, list[Bought]] = {}
    evaluated = np.isin(groups // n_items, test_keys // n_items)
    for key, count, stamp in zip(
        groups[evaluated].tolist(), counts[evaluated].tolist(), latest[evaluated].tolist(), strict=True
    ):
        user = str(train.user_ids[key // n_items])
        history.setdefault(user, []).append((str(train.item_ids[key % n_items]), count, stamp))
    ordered = sorted(truth)
    return RepeatSplit(
        base=split,
        truth={user: truth[user] for user in ordered},
        repeat={user: repeat[user] for user in ordered if user in repeat},
        new={user: new[user] for user in ordered if user in new},
        history=history,
    )


def complete_v2(ranked: Iterable[str], split: RepeatSplit, k: int) -> list[str]:
    """Step 4 (changed): valid items of I in order, own train items allowed, then popularity_v2."""
    known, result = split.base.item_users, []
    for item in (*ranked, *split.base.popularity):
        if len(result) == k:
            break
        if item in known and item not in result:
            result.append(item)
    return result


def popularity_v2(split: RepeatSplit, user: str) -> list[str]:
    """The same list for everyone: the completion ranking itself."""
    return []


def repeat_frequency(split: RepeatSplit, user: str) -> list[str]:
    """Own train items by row count, then latest timestamp (latest first), then item id."""
    return [item for item, _, _ in sorted(split.history.get(user, ()), key=lambda b: (-b[1], -b[2], b[0]))]


def repeat_recency(split: RepeatSplit, user: str) -> list[str]:
    """Own train items by latest timestamp (latest first), then row count, then item id."""
    return [item for item, _, _ in sorted(split.history.get(user, ()), key=lambda b: (-b[2], -b[1], b[0]))]


#: The protocol's reference baselines: each gives a user's ranked items before completion.
BASELINES: dict[str, Callable[[RepeatSplit, str], list[str]]] = {
    "popularity_v2": popularity_v2,
    "repeat_frequency": repeat_frequency,
    "repeat_recency": repeat_recency,
}


@dataclass
class RepeatResult:
    name: str
    params: dict[str, Any]
    overall: dict[str, float]
    repeat: dict[str, float]
    new: dict[str, float]
    fit_seconds: float
    ms_per_user: float
    #: NDCG@K of each evaluated user, in user id order (for paired comparisons).
    user_ndcg: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0))

    def as_json(self) -> dict[str, Any]:
        return {
            "overall": self.overall,
            "repeat": self.repeat,
            "new": self.new,
            "fit_seconds": self.fit_seconds,
            "ms_per_user": self.ms_per_user,
            "params": self.params,
        }


def score_v2(split: RepeatSplit, lists: dict[str, list[str]], k: int) -> tuple[dict, dict, dict, np.ndarray]:
    """Overall (with coverage), repeat and new figures of the same lists, each with its ``users``."""

    def mean(truths: dict[str, set[str]]) -> tuple[dict[str, Any], list[float]]:
        rows = [user_metrics(lists[user], truth, k) for user, truth in truths.items()]
        figures = {name: float(np.mean([row[name] for row in rows])) if rows else 0.0 for name in METRICS}
        return {**figures, "users": len(rows)}, [row["ndcg"] for row in rows]

    overall, ndcgs = mean(split.truth)
    overall["coverage"] = coverage(lists.values(), len(split.base.items))
    return overall, mean(split.repeat)[0], mean(split.new)[0], np.array(ndcgs)


def evaluate_v2(
    model: Recommender | str,
    split: RepeatSplit,
    items: Sequence[ItemInfo] = (),
    k: int = 10,
    weighting: Weighting | None = None,
    progress: Progress | None = None,
) -> RepeatResult:
    """Score a fitted-here recommender, or a reference baseline given by name, under version 2.

    A version 1 recommender never lists the user's own items, so under version 2 it is scored as
    it is: its lists are completed from popularity_v2, which may hold them.
    """
    fit_seconds, spent, lists = 0.0, 0.0, {}
    users = list(split.truth)
    if isinstance(model, str):
        name, params, ranker = model, {}, BASELINES[model]
    else:
        catalogue = [item for item in items if item.item_id in split.base.item_users]
        started = time.perf_counter()
        model.fit(split.base.train.to_interactions(weighting), catalogue)
        fit_seconds = time.perf_counter() - started
        name, params = model.name, model.get_params()

        def ranker(_: RepeatSplit, user: str) -> list[str]:
            return [r.item_id for r in model.recommend(user_id=user, k=k)]

    for done, user in enumerate(users, start=1):
        started = time.perf_counter()
        ranked = ranker(split, user)
        spent += time.perf_counter() - started
        lists[user] = complete_v2(ranked, split, k)
        if progress is not None:
            progress(done, len(users))
    overall, repeat, new, user_ndcg = score_v2(split, lists, k)
    return RepeatResult(
        name=name,
        params=params,
        overall=overall,
        repeat=repeat,
        new=new,
        fit_seconds=fit_seconds,
        ms_per_user=1000.0 * spent / max(len(users), 1),
        user_ndcg=user_ndcg,
    )


def split_summary_v2(split: RepeatSplit) -> dict[str, int]:
    """Version 1's sizes with version 2's evaluated users and the slices' user counts."""
    return {
        **split_summary(split.base),
        "users": len(split.truth),
        "repeat_users": len(split.repeat),
        "new_users": len(split.new),
    }


def as_json_v2(split: RepeatSplit, results: Sequence[RepeatResult], k: int) -> dict[str, Any]:
    """Version 1's layout; each model has ``overall``, ``repeat`` and ``new`` objects instead."""
    return {**as_json(split.base, results, k), "protocol": PROTOCOL_V2, "split": split_summary_v2(split)}


def table_v2(results: Sequence[RepeatResult], k: int) -> str:
    """One row per model: overall figures, then NDCG and HR of the repeat and new slices."""
    header = (
        f"{'model':<18} {f'NDCG@{k}':>8} {f'Recall@{k}':>9} {f'HR@{k}':>7} {f'Prec@{k}':>7} {f'MAP@{k}':>7} "
        f"{f'Cov@{k}':>7} {'rep NDCG':>8} {'rep HR':>7} {'new NDCG':>8} {'new HR':>7}"
    )
    lines = [header]
    for r in results:
        o = r.overall
        lines.append(
            f"{r.name:<18} {o['ndcg']:8.4f} {o['recall']:9.4f} {o['hr']:7.4f} {o['precision']:7.4f} "
            f"{o['map']:7.4f} {o['coverage']:7.4f} {r.repeat['ndcg']:8.4f} {r.repeat['hr']:7.4f} "
            f"{r.new['ndcg']:8.4f} {r.new['hr']:7.4f}"
        )
    return "\n".join(lines)
