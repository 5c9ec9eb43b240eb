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
    csr_entries,
    csr_weighted_rows,
    pack_csr,
    unpack_csr,
    without_rows,
)
from .matrix import Interactions

#: Users whose neighbours are computed together at fit (a block x users sparse product).
NEIGHBOUR_BLOCK = 1024


class UserKNNRecommender(Recommender):
    """``score(i) = sum over the top-N most similar users v of cos(u, v) * [v chose i]``.

    Works for a visitor known only by recent items too: their history vector is compared with
    the stored users who share an item with it. ``half_life_days``: optional own decay (None: the
    interactions' weighting).

    A known user's neighbours depend only on the fitted data, so with ``precompute_neighbours``
    they are found once at fit (in blocks of users, from the same capped history a request would
    use) and a request for a known user without session items reads them instead of comparing
    the user with every other: the same lists as the scan (ties go to the lower user index in
    both), at a cost that does not grow with the number of users.
    """

    name = "user_knn"

    def __init__(
        self,
        neighbours: int = 50,
        half_life_days: float | None = None,
        precompute_neighbours: bool = True,
        max_history: int | None = DEFAULT_MAX_HISTORY,
        random_state: int = 0,
    ):
        super().__init__(random_state, max_history)
        self.neighbours = neighbours
        self.half_life_days = half_life_days
        self.precompute_neighbours = precompute_neighbours

    def _fit(self, interactions: Interactions, infos: dict[str, ItemInfo]) -> None:
        matrix = interactions.matrix if self.half_life_days is None else interactions.weighted(self.half_life_days)
        self.user_vectors = normalize(sp.csr_matrix(matrix, dtype=np.float64))
        self.user_items = sp.csr_matrix(matrix)  # histories decay like the fit's data
        self._prepare()
        self.user_neighbours = self._all_neighbours() if self.precompute_neighbours else None

    def _prepare(self) -> None:
        self.item_users = sp.csr_matrix(self.user_vectors.T)  # rows: items, for the visitor's few items

    def _query(self, visitor: History) -> np.ndarray:
        return visitor.weights / np.linalg.norm(visitor.weights)

    def _scan(self, visitor: History) -> tuple[np.ndarray, np.ndarray]:
        """(neighbours, similarities) by comparing the visitor with the users sharing an item."""
        similarity = csr_weighted_rows(self.item_users, visitor.indices, self._query(visitor))
        if visitor.user is not None:
            similarity[visitor.user] = 0.0  # a user is not their own neighbour
        candidates = np.flatnonzero(similarity)
        return best_neighbours(candidates, similarity[candidates], self.neighbours)

    def _all_neighbours(self, block: int = NEIGHBOUR_BLOCK, users: np.ndarray | None = None) -> sp.csr_matrix:
        """Every user's neighbours as rows of a users x users CSR (similarities as values), from
        the capped history each would be served from; computed ``block`` users at a time.
        ``users``: only these users' rows are filled (each row is computed on its own, so a row
        equals the full computation's; a benchmark times a sample this way)."""
        n_users = len(self.user_ids)
        chosen_users = np.arange(n_users) if users is None else np.unique(np.asarray(users, dtype=np.int64))
        queries = sp.lil_matrix((len(chosen_users), len(self.item_ids)))
        for row, user in enumerate(chosen_users.tolist()):
            visitor = self.history(self.user_ids[user])
            if len(visitor.indices):
                queries.rows[row] = visitor.indices.tolist()
                queries.data[row] = self._query(visitor).tolist()
        queries = queries.tocsr()
        others = sp.csr_matrix(self.user_vectors.T)
        lengths, indices, data = np.zeros(n_users, dtype=np.int64), [], []
        for start in range(0, len(chosen_users), block):
            similarity = (queries[start : start + block] @ others).tocsr()
            similarity.sort_indices()
            for offset in range(similarity.shape[0]):
                user = int(chosen_users[start + offset])
                begin, end = similarity.indptr[offset : offset + 2]
                candidates = similarity.indices[begin:end]
                values = np.where(candidates == user, 0.0, similarity.data[begin:end])
                chosen, weights = best_neighbours(candidates, values, self.neighbours)
                indices.append(chosen.astype(np.int32))
                data.append(weights.astype(np.float64))
                lengths[user] = len(chosen)
        indptr = np.r_[0, np.cumsum(lengths)]  # rows in user order: ``chosen_users`` is sorted
        return sp.csr_matrix(
            (np.concatenate([np.zeros(0), *data]), np.concatenate([np.zeros(0, np.int32), *indices]), indptr),
            shape=(n_users, n_users),
        )

    def _score(self, visitor: History) -> tuple[np.ndarray, Explainer]:
        reason = Reason("similar_customers")
        if not len(visitor.indices):
            return np.zeros(len(self.item_ids)), lambda chosen: []
        stored = self.user_neighbours is not None and visitor.user is not None and self._stored_query(visitor)
        if stored:
            start, stop = self.user_neighbours.indptr[visitor.user : visitor.user + 2]
            neighbours, similarity = self.user_neighbours.indices[start:stop], self.user_neighbours.data[start:stop]
        else:
            neighbours, similarity = self._scan(visitor)
        # What the neighbours chose, each counted once with the neighbour's similarity.
        positions, chosen, _ = csr_entries(self.user_vectors, neighbours)
        scores = np.bincount(chosen, weights=similarity[positions], minlength=len(self.item_ids)).astype(np.float64)
        return scores, lambda chosen: [reason] * len(chosen)

    def _forget_rows(self, rows: np.ndarray) -> None:
        self.user_vectors = without_rows(self.user_vectors, rows)
        self._prepare()
        if self.user_neighbours is not None:
            self.user_neighbours = self._without_neighbours(rows)

    def _without_neighbours(self, rows: np.ndarray) -> sp.csr_matrix:
        """The stored neighbours with these users gone: their own lists emptied, and every list
        that named one of them found again by the scan (so it still equals a scan's)."""
        stored = sp.csr_matrix(self.user_neighbours)
        named = np.zeros(len(self.user_ids), dtype=bool)
        named[rows] = True
        touched = np.unique(np.repeat(np.arange(stored.shape[0]), np.diff(stored.indptr))[named[stored.indices]])
        lists = stored.tolil()
        for user in rows.tolist():
            lists.rows[user], lists.data[user] = [], []
        for user in np.setdiff1d(touched, rows).tolist():
            neighbours, similarity = self._scan(self.history(self.user_ids[user]))
            order = np.argsort(neighbours)
            lists.rows[user], lists.data[user] = neighbours[order].tolist(), similarity[order].tolist()
        return lists.tocsr()

    def _stored_query(self, visitor: History) -> bool:
        """Whether the request is the known user's own history alone (no session items added)."""
        own = self.history(self.user_ids[visitor.user])
        return np.array_equal(own.indices, visitor.indices) and np.array_equal(own.weights, visitor.weights)

    def _state(self) -> dict[str, np.ndarray]:
        # The transpose too: building it again would cost every loading worker time and memory.
        state = {**pack_csr("user_vectors", self.user_vectors), **pack_csr("item_users", self.item_users)}
        if self.user_neighbours is not None:
            state.update(pack_csr("user_neighbours", self.user_neighbours))
        return state

    def _set_state(self, arrays: dict[str, np.ndarray]) -> None:
        self.user_vectors = unpack_csr("user_vectors", arrays)
        # Artifacts saved before neighbours were precomputed serve by the scan.
        self.user_neighbours = unpack_csr("user_neighbours", arrays) if "user_neighbours.data" in arrays else None
        if "item_users.data" in arrays:
            self.item_users = unpack_csr("item_users", arrays)
        else:  # saved before the transpose was stored
            self._prepare()


def best_neighbours(candidates: np.ndarray, similarity: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``n`` candidates of highest positive similarity, ties to the lower user index."""
    positive = similarity > 0
    if n <= 0:
        positive[:] = False
    candidates, similarity = candidates[positive], similarity[positive]
    if len(similarity) > n:
        kth = np.partition(similarity, len(similarity) - n)[len(similarity) - n]
        keep = similarity >= kth
        candidates, similarity = candidates[keep], similarity[keep]
    order = np.lexsort((candidates, -similarity))[:n]
    return candidates[order], similarity[order]
