"""EASE (Steck, 2019): a closed-form item-item linear model, often the strongest simple baseline.

``B = argmin |X - XB|^2 + l2 |B|^2`` with ``diag(B) = 0`` has the closed form
``P = (X'X + l2 I)^-1``, ``B = -P / diag(P)`` (column-wise), ``diag(B) = 0``. It needs a dense
items x items inverse, so it is exact only up to ``max_items`` items.

Above that (``solver="auto"``, or always with ``solver="sparse"``) a documented approximation is
fitted instead: column ``j`` of ``B`` is EASE's own ridge regression of item ``j`` on the other
items (the closed form above is exactly that, solved for every column at once), restricted to
the ``neighbourhood`` items that co-occur most with ``j``. Each column is a small dense solve
``(G[N, N] + l2 I) b = G[N, j]`` with ``G = X'X``, so the fit grows linearly with the catalogue,
and ``B`` is kept sparse (CSR, at most ``neighbourhood`` entries per column), so serving reads
only the history items' rows. ``solver="dense"`` keeps the old behaviour above ``max_items``:
the most popular items only (``prune=True``) or an error. The NDCG@10 cost and the serving gain
are in ``benchmarks/RESULTS.md`` (``benchmarks/ease_large.py``).
"""

from __future__ import annotations

import warnings
from functools import cached_property

import numpy as np
import scipy.linalg
import scipy.sparse as sp

from .base import (
    DEFAULT_MAX_HISTORY,
    History,
    ItemInfo,
    ItemToItemRecommender,
    csr_block,
    csr_entries,
    csr_weighted_rows,
    pack_csr,
    unpack_csr,
)
from .matrix import Interactions

#: Items whose co-occurrence counts the sparse fit computes together (a block x items product).
GRAM_BLOCK = 256
#: Up to this many items the sparse fit indexes a dense ``X'X`` (8 bytes x items^2): with many
#: buyers per item that is faster than each neighbourhood's own columns of ``X``.
DENSE_GRAM_ITEMS = 6000


class CatalogueTooLargeError(ValueError):
    pass


class EASERecommender(ItemToItemRecommender):
    """Hyper-parameters: ``l2`` regularisation, ``binary`` (fit on 0/1 rather than weights),
    ``max_items`` with ``prune``, optional own ``half_life_days``."""

    name = "ease"

    def __init__(
        self,
        l2: float = 500.0,
        binary: bool = True,
        max_items: int = 10000,
        prune: bool = True,
        half_life_days: float | None = None,
        solver: str = "auto",
        neighbourhood: int = 100,
        max_history: int | None = DEFAULT_MAX_HISTORY,
        random_state: int = 0,
    ):
        super().__init__(random_state, max_history)
        self.l2 = l2
        self.binary = binary
        self.max_items = max_items
        self.prune = prune
        self.half_life_days = half_life_days
        self.solver = solver
        self.neighbourhood = neighbourhood

    def _fit(self, interactions: Interactions, infos: dict[str, ItemInfo]) -> None:
        self.__dict__.pop("_columns", None)  # a refit's weights replace the cached transpose
        matrix = interactions.matrix if self.half_life_days is None else interactions.weighted(self.half_life_days)
        self.user_items = sp.csr_matrix(matrix)  # histories decay like the fit's data
        matrix = sp.csr_matrix(matrix, dtype=np.float64)
        if self.binary:
            matrix.data = np.ones_like(matrix.data)
        if self.solver not in ("auto", "dense", "sparse"):
            raise ValueError(f"solver must be 'auto', 'dense' or 'sparse', not {self.solver!r}")
        if self.solver == "sparse" or (self.solver == "auto" and matrix.shape[1] > self.max_items):
            self.kept = np.arange(matrix.shape[1])
            self.weights = sparse_ease(matrix, self.l2, self.neighbourhood)
            return
        self.kept = self._kept_items(matrix)
        matrix = matrix[:, self.kept]
        gram = (matrix.T @ matrix).toarray()
        gram[np.diag_indices_from(gram)] += self.l2
        precision = scipy.linalg.inv(gram, overwrite_a=True, check_finite=False)
        weights = precision / -np.diag(precision)
        weights[np.diag_indices_from(weights)] = 0.0
        self.weights = np.ascontiguousarray(weights, dtype=np.float32)  # inv() returns Fortran order

    def _kept_items(self, matrix: sp.csr_matrix) -> np.ndarray:
        n_items = matrix.shape[1]
        if n_items <= self.max_items:
            return np.arange(n_items)
        message = (
            f"EASE inverts a dense items x items matrix; this catalogue has {n_items} items, "
            f"above max_items={self.max_items} ({8 * n_items**2 / 1e9:.1f} GB)."
        )
        if not self.prune:
            raise CatalogueTooLargeError(f"{message} Raise max_items or set prune=True.")
        warnings.warn(f"{message} Keeping the {self.max_items} most popular items.", stacklevel=3)
        users_per_item = np.bincount(matrix.indices, minlength=n_items)
        most_popular = np.lexsort((np.arange(n_items), -users_per_item))[: self.max_items]
        return np.sort(most_popular)

    def _item_scores(self, visitor: History) -> np.ndarray:
        if sp.issparse(self.weights):
            return csr_weighted_rows(self.weights, visitor.indices, visitor.weights)
        if len(self.kept) == len(self.item_ids):
            return (visitor.weights.astype(np.float32) @ self._rows(visitor.indices)).astype(np.float64)
        return super()._item_scores(visitor)

    def _contributions(self, visitor: History, chosen: np.ndarray) -> np.ndarray:
        if sp.issparse(self.weights):
            # Read the few chosen columns (at most ``neighbourhood`` entries each), not the rows.
            block = csr_block(self._columns, chosen, visitor.indices).T
            return block * visitor.weights[:, None]
        if len(self.kept) == len(self.item_ids):
            return self.weights[np.ix_(visitor.indices, chosen)] * visitor.weights[:, None]
        return super()._contributions(visitor, chosen)

    def _rows(self, indices: np.ndarray) -> np.ndarray:
        if sp.issparse(self.weights):
            return csr_block(self.weights, indices, np.arange(len(self.item_ids)))
        if len(self.kept) == len(self.item_ids):
            return self.weights[indices]
        rows = np.zeros((len(indices), len(self.item_ids)), dtype=np.float64)
        positions = np.searchsorted(self.kept, indices)
        known = (positions < len(self.kept)) & (self.kept[np.minimum(positions, len(self.kept) - 1)] == indices)
        rows[np.ix_(np.flatnonzero(known), self.kept)] = self.weights[positions[known]]
        return rows

    @cached_property
    def _columns(self) -> sp.csr_matrix:
        """The sparse ``B`` transposed: row ``i`` holds what each source item adds to item ``i``."""
        return sp.csr_matrix(self.weights.T)

    def _state(self) -> dict[str, np.ndarray]:
        if sp.issparse(self.weights):
            return {"kept": self.kept, **pack_csr("sparse_weights", self.weights)}
        return {"kept": self.kept, "weights": self.weights}

    def _set_state(self, arrays: dict[str, np.ndarray]) -> None:
        self.kept = arrays["kept"]
        self.weights = unpack_csr("sparse_weights", arrays) if "sparse_weights.data" in arrays else arrays["weights"]


def sparse_ease(matrix: sp.csr_matrix, l2: float, neighbourhood: int) -> sp.csr_matrix:
    """EASE's weights with column ``j`` restricted to the ``neighbourhood`` items co-occurring most
    with ``j`` (ties to the lower index; every other item when ``neighbourhood`` reaches them all,
    which is the exact fit): one small ridge solve per item; rows are source items.

    Above ``DENSE_GRAM_ITEMS`` items ``X'X`` is never formed whole: the co-occurrence counts come
    ``GRAM_BLOCK`` items at a time, and each solve's small Gram matrix from the neighbourhood's own
    columns of ``X``, not from rows of ``X'X`` (thousands of entries each).
    """
    item_users = sp.csr_matrix(matrix.T)  # rows: items
    n_items = matrix.shape[1]
    dense = (item_users @ matrix).toarray() if n_items <= DENSE_GRAM_ITEMS else None
    rows, columns, values = [], [], []
    for first in range(0, n_items, GRAM_BLOCK):
        counts_block = (item_users[first : first + GRAM_BLOCK] @ matrix).tocsr()
        counts_block.sort_indices()
        for offset in range(counts_block.shape[0]):
            item = first + offset
            start, stop = counts_block.indptr[offset : offset + 2]
            others, counts = counts_block.indices[start:stop], counts_block.data[start:stop]
            keep = others != item
            others, counts = others[keep], counts[keep]
            if neighbourhood >= n_items - 1:  # every other item: exactly the closed form's column
                others = np.delete(np.arange(n_items), item)
            elif not len(others):
                continue
            elif len(others) > neighbourhood:
                others = np.sort(others[np.lexsort((others, -counts))[:neighbourhood]])
            if dense is not None:
                block, target = dense[np.ix_(others, others)], dense[others, item]
            else:
                gram = _local_gram(item_users, np.append(others, item))
                block, target = gram[:-1, :-1], gram[:-1, -1]
            block[np.diag_indices_from(block)] += l2
            solution = scipy.linalg.solve(block, target, assume_a="pos", check_finite=False, overwrite_a=True)
            rows.append(others)
            columns.append(np.full(len(others), item))
            values.append(solution)
    if not rows:
        return sp.csr_matrix((n_items, n_items), dtype=np.float32)
    weights = sp.csr_matrix(
        (np.concatenate(values).astype(np.float32), (np.concatenate(rows), np.concatenate(columns))),
        shape=(n_items, n_items),
    )
    weights.eliminate_zeros()
    return weights


def _local_gram(item_users: sp.csr_matrix, items: np.ndarray) -> np.ndarray:
    """``X'X`` restricted to ``items`` (dense), from those items' rows of ``X'`` alone."""
    positions, users, values = csr_entries(item_users, items)
    present, local = np.unique(users, return_inverse=True)
    part = sp.csr_matrix((values, (positions, local)), shape=(len(items), len(present)))
    return (part @ part.T).toarray()
