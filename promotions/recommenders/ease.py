"""EASE (Steck, 2019): a closed-form item-item linear model, often the strongest simple baseline.

``B = argmin |X - XB|^2 + l2 |B|^2`` with ``diag(B) = 0`` has the closed form
``P = (X'X + l2 I)^-1``, ``B = -P / diag(P)`` (column-wise), ``diag(B) = 0``. It needs a dense
items x items inverse, so catalogues above ``max_items`` are pruned to their most popular items
(or refused, with ``prune=False``).
"""

from __future__ import annotations

import warnings

import numpy as np
import scipy.linalg
import scipy.sparse as sp

from .base import DEFAULT_MAX_HISTORY, History, ItemInfo, ItemToItemRecommender
from .matrix import Interactions


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
        max_history: int | None = DEFAULT_MAX_HISTORY,
        random_state: int = 0,
    ):
        super().__init__(random_state, max_history)
        self.l2 = l2
        self.binary = binary
        self.max_items = max_items
        self.prune = prune
        self.half_life_days = half_life_days

    def _fit(self, interactions: Interactions, infos: dict[str, ItemInfo]) -> None:
        matrix = interactions.matrix if self.half_life_days is None else interactions.weighted(self.half_life_days)
        self.user_items = sp.csr_matrix(matrix)  # histories decay like the fit's data
        matrix = sp.csr_matrix(matrix, dtype=np.float64)
        if self.binary:
            matrix.data = np.ones_like(matrix.data)
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
        if len(self.kept) == len(self.item_ids):
            return (visitor.weights.astype(np.float32) @ self._rows(visitor.indices)).astype(np.float64)
        return super()._item_scores(visitor)

    def _contributions(self, visitor: History, chosen: np.ndarray) -> np.ndarray:
        if len(self.kept) == len(self.item_ids):
            return self.weights[np.ix_(visitor.indices, chosen)] * visitor.weights[:, None]
        return super()._contributions(visitor, chosen)

    def _rows(self, indices: np.ndarray) -> np.ndarray:
        if len(self.kept) == len(self.item_ids):
            return self.weights[indices]
        rows = np.zeros((len(indices), len(self.item_ids)), dtype=np.float64)
        positions = np.searchsorted(self.kept, indices)
        known = (positions < len(self.kept)) & (self.kept[np.minimum(positions, len(self.kept) - 1)] == indices)
        rows[np.ix_(np.flatnonzero(known), self.kept)] = self.weights[positions[known]]
        return rows

    def _state(self) -> dict[str, np.ndarray]:
        return {"kept": self.kept, "weights": self.weights}

    def _set_state(self, arrays: dict[str, np.ndarray]) -> None:
        self.kept = arrays["kept"]
        self.weights = arrays["weights"]
