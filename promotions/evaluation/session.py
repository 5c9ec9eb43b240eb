"""Next-item prediction within a session, on the protocol's test part (a slice beside temporal-v1).

Sessions: each evaluated user's test rows in time order (file order within one timestamp, as an
order's lines were entered), split where two rows are more than ``gap_seconds`` apart; items
outside I are dropped and repeats of an item within a session are skipped. Every item after a
session's first that is in the user's ground truth G(u) (new to them, as the protocol requires) is
one prediction point: the model gets the items before it in that session (as
``history``; with ``with_user`` also the user's id, so stored history counts too) and must rank the
item among K. HR@K is the share of points whose item is in the list, MRR@K the mean of 1/rank
(0 when absent). Points come from the users in id order, at most ``max_points`` of them (a
seeded sample when there are more), so every model answers the same questions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from promotions.recommenders import Recommender

from .split import Split

#: Rows of one user further apart than this start a new session (the usual 30 minutes).
SESSION_GAP_SECONDS = 1800.0


@dataclass(frozen=True)
class Point:
    user: str
    session: tuple[str, ...]
    target: str


def session_points(
    split: Split, gap_seconds: float = SESSION_GAP_SECONDS, max_points: int | None = 20_000, seed: int = 0
) -> list[Point]:
    """The prediction points of the split's test part, as described above."""
    test = split.test
    order = np.lexsort((np.arange(len(test)), test.timestamps, test.users))
    points: list[Point] = []
    previous_user, previous_time, session = None, 0.0, []
    for row in order.tolist():
        user, item, moment = str(test.users[row]), str(test.items[row]), float(test.timestamps[row])
        if user != previous_user or moment - previous_time > gap_seconds:
            session = []
        previous_user, previous_time = user, moment
        if user not in split.truth or item not in split.item_users or item in session:
            continue
        if session and item in split.truth[user]:
            points.append(Point(user, tuple(session), item))
        session.append(item)
    if max_points is not None and len(points) > max_points:
        keep = np.sort(np.random.default_rng(seed).choice(len(points), size=max_points, replace=False))
        points = [points[i] for i in keep.tolist()]
    return points


@dataclass(frozen=True)
class SessionResult:
    hr: float
    mrr: float
    points: int
    #: 1/rank of each point's item (0 when not in the list), in point order, for paired comparisons.
    reciprocal_ranks: np.ndarray

    def as_json(self) -> dict[str, float]:
        return {"hr": self.hr, "mrr": self.mrr, "points": self.points}


def next_item(model: Recommender, points: list[Point], k: int = 10, with_user: bool = False) -> SessionResult:
    """HR@K and MRR@K of a fitted ``model`` over ``points``."""
    reciprocal = np.zeros(len(points))
    for position, point in enumerate(points):
        user = point.user if with_user else None
        ranked = [r.item_id for r in model.recommend(user_id=user, history=list(point.session), k=k)]
        if point.target in ranked:
            reciprocal[position] = 1.0 / (ranked.index(point.target) + 1)
    if not len(points):
        return SessionResult(0.0, 0.0, 0, reciprocal)
    return SessionResult(float(np.mean(reciprocal > 0)), float(reciprocal.mean()), len(points), reciprocal)
