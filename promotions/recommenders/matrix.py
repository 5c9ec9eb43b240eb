"""The user x item interaction matrix every model learns from.

Rows are (user_id, item_id, timestamp, event, quantity). Each row weighs
``event weight x quantity factor x time decay``; a user's weights for one item add up.
Ids are strings, kept sorted, so an item's index order is its id order.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

import numpy as np
import scipy.sparse as sp

SECONDS_PER_DAY = 86400.0


@dataclass(frozen=True)
class Weighting:
    """How much one row counts.

    ``event_weights``: per event type (a purchase says more than a view); events not listed get
    ``default_event_weight``, and a weight of 0 drops the row. ``quantity``: ``"ignore"``,
    ``"log"`` (1 + ln q, so a wholesale order of 500 does not drown everything else) or
    ``"linear"``; a missing or non-positive quantity counts as 1. ``half_life_days``: a row loses
    half its weight every that many days before the newest row (None: no decay).

    Signals, each neutral by default: ``rating_power``: a row with a rating ``r`` (1-5) counts
    ``(r / 3) ** rating_power`` times (0: the value is unused, a rating weighs its event weight);
    ``dwell_seconds``: a row with a dwell time ``d`` counts ``2 d / (d + dwell_seconds)`` times,
    from 0 for a bounce to 2 for a long read, 1 at ``d = dwell_seconds`` (None: dwell unused).
    Rows without a rating or a dwell time are unchanged.
    """

    event_weights: Mapping[str, float] = field(
        default_factory=lambda: {"view": 1.0, "add_to_cart": 3.0, "purchase": 5.0}
    )
    default_event_weight: float = 1.0
    quantity: str = "log"
    half_life_days: float | None = None
    rating_power: float = 0.0
    dwell_seconds: float | None = None

    def __post_init__(self) -> None:
        if self.quantity not in ("ignore", "log", "linear"):
            raise ValueError(f"quantity must be 'ignore', 'log' or 'linear', not {self.quantity!r}")
        if self.half_life_days is not None and self.half_life_days <= 0:
            raise ValueError("half_life_days must be positive or None")
        if self.dwell_seconds is not None and self.dwell_seconds <= 0:
            raise ValueError("dwell_seconds must be positive or None")

    def signal_factors(self, ratings: np.ndarray | None, dwell: np.ndarray | None, n: int) -> np.ndarray:
        """What the rating and dwell time of each row multiply its weight by (NaN: none given)."""
        factors = np.ones(n)
        if ratings is not None and self.rating_power:
            ratings = np.asarray(ratings, dtype=np.float64)
            given = np.isfinite(ratings) & (ratings > 0)
            factors[given] *= (ratings[given] / 3.0) ** self.rating_power
        if dwell is not None and self.dwell_seconds is not None:
            dwell = np.asarray(dwell, dtype=np.float64)
            given = np.isfinite(dwell) & (dwell >= 0)
            factors[given] *= 2.0 * dwell[given] / (dwell[given] + self.dwell_seconds)
        return factors

    def row_weights(self, events: Sequence[str] | None, quantities: np.ndarray | None, n: int) -> np.ndarray:
        weights = np.full(n, self.default_event_weight, dtype=np.float64)
        if events is not None:
            events = np.asarray(events, dtype=str)
            for event, weight in self.event_weights.items():
                weights[events == event] = weight
        return self._times_quantity(weights, quantities)

    def coded_row_weights(
        self, event_ids: np.ndarray | None, event_codes: np.ndarray | None, quantities: np.ndarray | None, n: int
    ) -> np.ndarray:
        """``row_weights`` of rows whose event types are codes into ``event_ids``."""
        if event_ids is None or event_codes is None:
            return self.row_weights(None, quantities, n)
        weights = self.row_weights(event_ids, None, len(event_ids))[event_codes]
        return self._times_quantity(weights, quantities)

    def _times_quantity(self, weights: np.ndarray, quantities: np.ndarray | None) -> np.ndarray:
        if quantities is not None and self.quantity != "ignore":
            quantities = np.asarray(quantities, dtype=np.float64)
            quantities = np.where(np.isfinite(quantities) & (quantities > 0), quantities, 1.0)
            weights *= 1.0 + np.log(quantities) if self.quantity == "log" else quantities
        return weights


def decay(timestamps: np.ndarray, now: float, half_life_days: float | None) -> np.ndarray:
    """Exponential time decay: 1 at ``now``, 1/2 one half-life earlier."""
    if half_life_days is None:
        return np.ones_like(timestamps, dtype=np.float64)
    age_days = np.maximum(now - timestamps, 0.0) / SECONDS_PER_DAY
    return np.exp2(-age_days / half_life_days)


def _present(ids: np.ndarray, codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The ids that ``codes`` use (still sorted) and the codes renumbered into them."""
    used = np.zeros(len(ids), dtype=bool)
    used[codes] = True
    position = np.cumsum(used, dtype=np.int64) - 1
    return ids[used], position[codes]


def to_epoch_seconds(value: Any) -> float:
    """Seconds since 1970 for a datetime (naive means UTC), an ISO string or a number."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.timestamp()
    return float(value)


class Interactions:
    """User and item id indexes plus the weighted CSR matrix (users x items).

    Build with ``from_rows`` or ``from_arrays``; ``matrix`` applies the weighting's half-life,
    ``weighted(h)`` another one without rebuilding, ``last_seen`` holds each pair's latest time.
    """

    def __init__(
        self,
        user_ids: np.ndarray,
        item_ids: np.ndarray,
        user_codes: np.ndarray,
        item_codes: np.ndarray,
        timestamps: np.ndarray,
        row_weights: np.ndarray,
        half_life_days: float | None = None,
    ):
        self.user_ids = user_ids
        self.item_ids = item_ids
        self.user_codes = user_codes
        self.item_codes = item_codes
        self.timestamps = timestamps
        self.row_weights = row_weights
        self.half_life_days = half_life_days
        #: The decay reference: the newest row.
        self.now = float(timestamps.max()) if len(timestamps) else 0.0

    @classmethod
    def from_arrays(
        cls,
        users: Sequence[str],
        items: Sequence[str],
        timestamps: Sequence[Any],
        events: Sequence[str] | None = None,
        quantities: Sequence[float] | None = None,
        weighting: Weighting | None = None,
        ratings: Sequence[float] | None = None,
        dwell: Sequence[float] | None = None,
    ) -> Interactions:
        """Rows as columns; ``ratings`` and ``dwell`` (seconds) may hold NaN where a row has none."""
        weighting = weighting or Weighting()
        n = len(users)
        if not (len(items) == len(timestamps) == n):
            raise ValueError("users, items and timestamps must have the same length")
        times = np.asarray(timestamps)
        if times.dtype.kind not in "fiu":
            times = np.array([to_epoch_seconds(t) for t in times.tolist()], dtype=np.float64)
        quantity_array = None if quantities is None else np.asarray(quantities, dtype=np.float64)
        weights = weighting.row_weights(events, quantity_array, n) * weighting.signal_factors(ratings, dwell, n)
        keep = weights != 0
        user_ids, user_codes = np.unique(np.asarray(users, dtype=str)[keep], return_inverse=True)
        item_ids, item_codes = np.unique(np.asarray(items, dtype=str)[keep], return_inverse=True)
        return cls(
            user_ids,
            item_ids,
            user_codes.astype(np.int64),
            item_codes.astype(np.int64),
            times.astype(np.float64)[keep],
            weights[keep],
            weighting.half_life_days,
        )

    @classmethod
    def from_codes(
        cls,
        user_ids: np.ndarray,
        user_codes: np.ndarray,
        item_ids: np.ndarray,
        item_codes: np.ndarray,
        timestamps: np.ndarray,
        row_weights: np.ndarray,
        half_life_days: float | None = None,
    ) -> Interactions:
        """From rows already coded into sorted id vocabularies (``from_arrays`` without its string
        sort): rows of weight 0 are dropped, and so are ids no remaining row uses."""
        keep = row_weights != 0
        users, new_user_codes = _present(user_ids, user_codes[keep])
        items, new_item_codes = _present(item_ids, item_codes[keep])
        return cls(users, items, new_user_codes, new_item_codes, timestamps[keep], row_weights[keep], half_life_days)

    @classmethod
    def from_rows(cls, rows: Iterable[Sequence[Any]], weighting: Weighting | None = None) -> Interactions:
        """Rows of (user_id, item_id, timestamp[, event[, quantity[, rating[, dwell seconds]]]])."""
        rows = list(rows)
        columns = list(zip(*rows, strict=True)) if rows else [(), (), ()]
        events = columns[3] if len(columns) > 3 else None

        def numbers(position: int) -> list[float] | None:
            if len(columns) <= position:
                return None
            return [math.nan if value is None else value for value in columns[position]]

        return cls.from_arrays(
            columns[0], columns[1], columns[2], events, numbers(4), weighting, ratings=numbers(5), dwell=numbers(6)
        )

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.user_ids), len(self.item_ids)

    def weighted(self, half_life_days: float | None) -> sp.csr_matrix:
        """The matrix with this half-life (a model may tune its own)."""
        values = self.row_weights * decay(self.timestamps, self.now, half_life_days)
        matrix = sp.csr_matrix((values, (self.user_codes, self.item_codes)), shape=self.shape)
        matrix.sum_duplicates()
        return matrix

    @cached_property
    def matrix(self) -> sp.csr_matrix:
        return self.weighted(self.half_life_days)

    @cached_property
    def last_seen(self) -> sp.csr_matrix:
        """Each (user, item) pair's latest timestamp."""
        # The pairs are the matrix's entries (canonical: sorted by row, then column), so each row's
        # pair is found there by one search and its time kept when it is the latest: two arrays
        # of the rows' length at a time, not a sort of them all.
        structure = self.matrix
        n_items = np.int64(len(self.item_ids))
        entries = np.repeat(np.arange(structure.shape[0], dtype=np.int64), np.diff(structure.indptr)) * n_items
        entries += structure.indices
        at = np.searchsorted(entries, self.user_codes.astype(np.int64) * n_items + self.item_codes)
        del entries
        latest = np.full(structure.nnz, -np.inf)
        np.maximum.at(latest, at, self.timestamps)
        return sp.csr_matrix((latest, structure.indices, structure.indptr), shape=self.shape)
