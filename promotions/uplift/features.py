"""Visitor features for uplift models, built from behavior events given as plain tuples.

The Django layer turns ``Event`` rows into ``BehaviorEvent`` tuples; everything here is pure, so the
same features are computed at training time (as of each visitor's assignment) and at serving time.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

import numpy as np

DEVICES = ("desktop", "mobile", "tablet")
PURCHASE = "purchase"
#: As in the serving segments: an event this much older than the reference time was an earlier visit.
RETURNING_AFTER = timedelta(minutes=30)


class BehaviorEvent(NamedTuple):
    """One thing a visitor did: ``revenue`` counts for purchases only."""

    visitor_id: str
    occurred_at: datetime
    event_type: str
    category: str = ""
    device: str = ""
    revenue: float = 0.0


@dataclass(frozen=True)
class BehaviorFeatures:
    visitor_ids: list[str]
    matrix: np.ndarray
    names: list[str]


def behavior_features(
    events: Iterable[BehaviorEvent],
    as_of: datetime,
    visitor_ids: Sequence[str] | None = None,
    categories: Sequence[str] | None = None,
    devices: Sequence[str] = DEVICES,
) -> BehaviorFeatures:
    """One row per visitor from the events before ``as_of`` (later ones are ignored: no leak from the future).

    Columns: ``recency_days`` (since the last event; NaN without one), ``frequency`` (distinct
    active days), ``purchases``, ``monetary`` (purchase revenue), ``categories_touched``, one
    ``category=<c>`` flag per category, the share of events per ``device=<d>``, and ``returning``
    (an event older than 30 minutes). ``visitor_ids`` fixes the rows (visitors without events get
    zeros); ``categories`` fixes the category columns, so serving matches training.
    """
    events = list(events)
    if visitor_ids is None:
        visitor_ids = sorted({event.visitor_id for event in events if event.occurred_at < as_of})
    return behavior_features_at(events, dict.fromkeys(visitor_ids, as_of), categories, devices)


def behavior_features_at(
    events: Iterable[BehaviorEvent],
    as_of: Mapping[str, datetime],
    categories: Sequence[str] | None = None,
    devices: Sequence[str] = DEVICES,
) -> BehaviorFeatures:
    """``behavior_features`` with a reference time per visitor (rows in ``as_of``'s order).

    Training needs each visitor as they were when they were assigned, and visitors are assigned at
    different times; each row uses only that visitor's events before their own ``as_of``.
    """
    by_visitor: dict[str, list[BehaviorEvent]] = {}
    for event in events:
        moment = as_of.get(event.visitor_id)
        if moment is not None and event.occurred_at < moment:
            by_visitor.setdefault(event.visitor_id, []).append(event)
    ids = list(as_of)
    if categories is None:
        categories = sorted({e.category for rows in by_visitor.values() for e in rows if e.category})
    names = ["recency_days", "frequency", "purchases", "monetary", "categories_touched"]
    names += [f"category={category}" for category in categories]
    names += [f"device={device}" for device in devices]
    names.append("returning")
    category_column = {category: 5 + index for index, category in enumerate(categories)}
    device_column = {device: 5 + len(categories) + index for index, device in enumerate(devices)}
    matrix = np.zeros((len(ids), len(names)))
    for row, visitor in enumerate(ids):
        history = by_visitor.get(visitor)
        if not history:
            matrix[row, 0] = np.nan
            continue
        reference = as_of[visitor]
        first = min(event.occurred_at for event in history)
        last = max(event.occurred_at for event in history)
        purchases = [event for event in history if event.event_type == PURCHASE]
        touched = {event.category for event in history if event.category}
        matrix[row, 0] = (reference - last).total_seconds() / 86400
        matrix[row, 1] = len({event.occurred_at.date() for event in history})
        matrix[row, 2] = len(purchases)
        matrix[row, 3] = sum(event.revenue for event in purchases)
        matrix[row, 4] = len(touched)
        for category in touched & category_column.keys():
            matrix[row, category_column[category]] = 1.0
        for event in history:
            if event.device in device_column:
                matrix[row, device_column[event.device]] += 1.0 / len(history)
        matrix[row, -1] = float(reference - first > RETURNING_AFTER)
    return BehaviorFeatures(ids, matrix, names)
