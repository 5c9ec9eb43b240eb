"""Bought together: which products go into the same basket more often than chance says.

A basket is one customer's purchases on one day (an order, without needing order ids). For two
items ``a`` and ``b`` over ``N`` baskets, with ``n_a`` and ``n_b`` the baskets holding each and
``c`` those holding both:

- ``lift = c * N / (n_a * n_b)``: how many times more often they meet than if independent;
- ``p``: the chance of ``c`` or more shared baskets if they were independent (one sided; Poisson
  with mean ``n_a * n_b / N``, the hypergeometric's limit when items are in few baskets).

Raw counts favour best sellers, which meet everything; lift alone favours two rarities bought
once together. A pair is kept when ``c >= min_count``, ``lift > 1`` and ``p <= max_p_value``.

Each item keeps its ``neighbours`` strongest companions by ``rank``: ``"evidence"`` (default),
shared baskets x ln(lift), so each shared basket counts by how surprising the pair is; ``"lift"``;
or ``"count"``, shared baskets, which with ``min_count=1, max_p_value=1`` is the plain
co-occurrence count (the docs' baseline). On Online Retail's validation split evidence keeps
most of the raw count's hit rate with a quarter of the lists on best sellers (docs/recommenders.md).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.special import gammainc

from .matrix import SECONDS_PER_DAY


@dataclass(frozen=True)
class Pair:
    """Two items bought together: shared baskets, each one's baskets, lift and p-value."""

    a: str
    b: str
    together: int
    baskets_a: int
    baskets_b: int
    lift: float
    p_value: float


def basket_matrix(
    user_codes: np.ndarray, item_codes: np.ndarray, timestamps: np.ndarray, n_items: int
) -> sp.csr_matrix:
    """Baskets x items, 1 where the basket holds the item; a basket = (customer, day)."""
    days = np.floor(np.asarray(timestamps, dtype=np.float64) / SECONDS_PER_DAY).astype(np.int64)
    _, baskets = np.unique(np.column_stack([np.asarray(user_codes, dtype=np.int64), days]), axis=0, return_inverse=True)
    baskets = baskets.ravel()
    n_baskets = int(baskets.max()) + 1 if len(baskets) else 0
    matrix = sp.csr_matrix(
        (np.ones(len(baskets)), (baskets, np.asarray(item_codes, dtype=np.int64))), shape=(n_baskets, n_items)
    )
    matrix.data[:] = 1.0  # an item twice in a basket counts once
    matrix.sum_duplicates()
    matrix.data[:] = 1.0
    return matrix


#: How an item's kept companions are ordered (see the module's docstring).
RANKS = ("evidence", "lift", "count")


def evidence(together: np.ndarray | float, lift: np.ndarray | float) -> np.ndarray:
    """Shared baskets x ln(lift): the default strength of a pair."""
    return np.asarray(together) * np.log(np.maximum(lift, 1.0))


class BoughtTogether:
    """Significant basket companions of each item (see the module's docstring)."""

    def __init__(self, min_count: int = 3, max_p_value: float = 0.01, neighbours: int = 20, rank: str = "evidence"):
        if rank not in RANKS:
            raise ValueError(f"rank must be one of {', '.join(RANKS)}, not {rank!r}")
        self.min_count = min_count
        self.max_p_value = max_p_value
        self.neighbours = neighbours
        self.rank = rank

    def fit(self, item_ids: np.ndarray, baskets: sp.csr_matrix) -> BoughtTogether:
        """``item_ids``: the id of each column of ``baskets`` (baskets x items, binary)."""
        self.item_ids = np.asarray(item_ids, dtype=str)
        self.item_index = {item: i for i, item in enumerate(self.item_ids.tolist())}
        baskets = sp.csr_matrix(baskets, dtype=np.float64)
        n = baskets.shape[0]
        self.n_baskets = n
        self.item_baskets = np.asarray(baskets.sum(axis=0)).ravel().astype(np.int64)
        shared = sp.triu(baskets.T @ baskets, k=1).tocoo()
        a, b, c = shared.row.astype(np.int64), shared.col.astype(np.int64), shared.data.astype(np.int64)
        keep = c >= self.min_count
        a, b, c = a[keep], b[keep], c[keep]
        na, nb = self.item_baskets[a], self.item_baskets[b]
        expected = na * nb / max(n, 1)
        lift = c / np.maximum(expected, 1e-12)
        p = gammainc(c, expected)  # P(Poisson(expected) >= c)
        keep = (p <= self.max_p_value) & ((lift > 1) | (self.max_p_value >= 1))
        self.pairs_a, self.pairs_b, self.pairs_count = a[keep], b[keep], c[keep]
        self.pairs_lift, self.pairs_p = lift[keep], p[keep]
        # Each item's strongest companions, both directions.
        source = np.r_[self.pairs_a, self.pairs_b]
        target = np.r_[self.pairs_b, self.pairs_a]
        per_pair = {
            "lift": self.pairs_lift,
            "count": self.pairs_count.astype(np.float64),
            "evidence": evidence(self.pairs_count, self.pairs_lift),
        }[self.rank]
        strength = np.r_[per_pair, per_pair]
        order = np.lexsort((target, -strength, source))
        source, target, strength = source[order], target[order], strength[order].astype(np.float64)
        starts = np.searchsorted(source, np.arange(len(self.item_ids) + 1))
        rank_in_row = np.arange(len(source)) - starts[source]
        top = rank_in_row < self.neighbours
        self.companions = sp.csr_matrix(
            (strength[top], (source[top], target[top])), shape=(len(self.item_ids), len(self.item_ids))
        )
        return self

    def together(self, items: Iterable[str], k: int = 4, exclude: Iterable[str] = ()) -> list[tuple[str, float]]:
        """The best companions of ``items`` (a product, or a cart): strengths summed over them, the
        items themselves and ``exclude`` left out; ties by item id."""
        rows = [self.item_index[i] for i in dict.fromkeys(items) if i in self.item_index]
        if not rows:
            return []
        scores = np.asarray(self.companions[rows].sum(axis=0)).ravel()
        blocked = rows + [self.item_index[i] for i in exclude if i in self.item_index]
        scores[blocked] = 0.0
        candidates = np.flatnonzero(scores > 0)
        order = np.lexsort((candidates, -scores[candidates]))[:k]
        return [(str(self.item_ids[i]), float(scores[i])) for i in candidates[order].tolist()]

    def pairs(self, n: int | None = None) -> list[Pair]:
        """The kept pairs, strongest first by ``rank``, then shared baskets, then ids."""
        strength = {"evidence": evidence(self.pairs_count, self.pairs_lift), "lift": self.pairs_lift}.get(
            self.rank, self.pairs_count
        )
        order = np.lexsort((self.pairs_b, self.pairs_a, -self.pairs_count, -strength))[:n]
        return [
            Pair(
                str(self.item_ids[self.pairs_a[i]]),
                str(self.item_ids[self.pairs_b[i]]),
                int(self.pairs_count[i]),
                int(self.item_baskets[self.pairs_a[i]]),
                int(self.item_baskets[self.pairs_b[i]]),
                float(self.pairs_lift[i]),
                float(self.pairs_p[i]),
            )
            for i in order.tolist()
        ]
