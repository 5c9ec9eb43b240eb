"""User-user collaborative filtering: the visitor's nearest customers by cosine, and what they chose."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.preprocessing import normalize

from .base import (
    DEFAULT_MAX_HISTORY,
    Explainer,
    History,
    ItemInfo,
    Reason,
    Recommender,
    csr_weighted_rows,
    pack_csr,
    unpack_csr,
    without_rows,
)
from .matrix import Interactions


class UserKNNRecommender(Recommender):
    """``score(i) = sum over the top-N most similar users v of cos(u, v) * [v chose i]``.

    Works for a visitor known only by recent items too: their history vector is compared with
    every stored user. ``half_life_days``: optional own decay (None: the interactions' weighting).
    """

    name = "user_knn"

    def __init__(
        self,
        neighbours: int = 50,
        half_life_days: float | None = None,
        max_history: int | None = DEFAULT_MAX_HISTORY,
        random_state: int = 0,
    ):
        super().__init__(random_state, max_history)
        self.neighbours = neighbours
        self.half_life_days = half_life_days

    def _fit(self, interactions: Interactions, infos: dict[str, ItemInfo]) -> None:
        matrix = interactions.matrix if self.half_life_days is None else interactions.weighted(self.half_life_days)
        self.user_vectors = normalize(sp.csr_matrix(matrix, dtype=np.float64))
        self.user_items = sp.csr_matrix(matrix)  # histories decay like the fit's data
        self._prepare()

    def _prepare(self) -> None:
        self.item_users = sp.csr_matrix(self.user_vectors.T)  # rows: items, for the visitor's few items
        self.chosen = self.user_vectors.copy()
        self.chosen.data[:] = 1.0

    def _score(self, visitor: History) -> tuple[np.ndarray, Explainer]:
        reason = Reason("similar_customers", "Customers with tastes like yours chose this")
        if not len(visitor.indices):
            return np.zeros(len(self.item_ids)), lambda chosen: []
        query = visitor.weights / np.linalg.norm(visitor.weights)
        similarity = csr_weighted_rows(self.item_users, visitor.indices, query)
        if visitor.user is not None:
            similarity[visitor.user] = 0.0  # a user is not their own neighbour
        keep = min(self.neighbours, len(similarity))
        neighbours = np.argpartition(-similarity, keep - 1)[:keep] if keep else np.zeros(0, dtype=np.int64)
        neighbours = neighbours[similarity[neighbours] > 0]
        scores = csr_weighted_rows(self.chosen, neighbours, similarity[neighbours])
        return scores, lambda chosen: [reason] * len(chosen)

    def _forget_rows(self, rows: np.ndarray) -> None:
        self.user_vectors = without_rows(self.user_vectors, rows)
        self._prepare()

    def _state(self) -> dict[str, np.ndarray]:
        return pack_csr("user_vectors", self.user_vectors)

    def _set_state(self, arrays: dict[str, np.ndarray]) -> None:
        self.user_vectors = unpack_csr("user_vectors", arrays)
        self._prepare()
