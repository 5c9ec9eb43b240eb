"""Item-item collaborative filtering: cosine over whole user vectors, shrunk, pruned.

The seed article's 4.2 sums only over co-rated users; on implicit (0/1) data every pair of items
sharing a user then gets similarity 1. Here the cosine runs over whole vectors, so two items
are as similar as the overlap of their audiences, relative to their sizes.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .base import (
    DEFAULT_MAX_HISTORY,
    History,
    ItemInfo,
    ItemToItemRecommender,
    csr_block,
    csr_weighted_rows,
    pack_csr,
    unpack_csr,
)
from .matrix import Interactions

#: Dense work per block of item rows stays around this many floats.
BLOCK_FLOATS = 4_000_000


def weight_users(matrix: sp.csr_matrix, weighting: str, k1: float = 1.2, b: float = 0.75) -> sp.csr_matrix:
    """Re-weight a users x items matrix before item similarities (as the ``implicit`` library does).

    ``tfidf``: sqrt of the weight times the user's inverse frequency (a user who bought
    everything says little about any pair). ``bm25``: the same idea with BM25's saturation and
    item-length normalisation. ``none``: the weights as they are.
    """
    if weighting == "none":
        return matrix
    if weighting not in ("tfidf", "bm25"):
        raise ValueError(f"weighting must be 'none', 'tfidf' or 'bm25', not {weighting!r}")
    # Computed on the matrix's own entries, which the result shares (only the values are new):
    # the user of an entry is its row, its item its column.
    matrix = sp.csr_matrix(matrix)
    n_items = matrix.shape[1]
    per_user = np.diff(matrix.indptr)
    idf = np.maximum(np.log(n_items) - np.log1p(per_user), 0.0)
    idf = np.repeat(idf, per_user)  # each entry's user's
    if weighting == "tfidf":
        data = np.sqrt(matrix.data) * idf
    else:
        # Summed per item as the transpose's rows were (the same floats; a copy for a moment).
        lengths = np.asarray(matrix.tocsc().sum(axis=0)).ravel()
        length_norm = (1.0 - b) + b * lengths / max(lengths.mean(), 1e-12)
        data = matrix.data * (k1 + 1.0) / (k1 * length_norm[matrix.indices] + matrix.data) * idf
    return sp.csr_matrix((data, matrix.indices, matrix.indptr), shape=matrix.shape)


def cosine_neighbours(
    vectors: sp.csr_matrix, neighbours: int, shrinkage: float, transposed: sp.csr_matrix | None = None
) -> sp.csr_matrix:
    """Row-wise top-``neighbours`` of ``x_i . x_j / (|x_i| |x_j| + shrinkage)``, no self-pairs.

    Shrinkage pulls similarities resting on few shared users towards 0.
    """
    n = vectors.shape[0]
    norms = np.sqrt(np.asarray(vectors.multiply(vectors).sum(axis=1)).ravel())
    block = max(1, BLOCK_FLOATS // max(n, 1))
    keep = min(neighbours, max(n - 1, 0))
    rows, cols, values = [], [], []
    transposed = sp.csr_matrix(vectors.T) if transposed is None else transposed  # given: no second copy
    for start in range(0, n, block):
        stop = min(start + block, n)
        dots = (vectors[start:stop] @ transposed).toarray()
        similarity = dots / (norms[start:stop, None] * norms[None, :] + shrinkage + 1e-12)
        similarity[np.arange(stop - start), np.arange(start, stop)] = 0.0
        if keep == 0:
            continue
        top = np.argpartition(-similarity, keep - 1, axis=1)[:, :keep]
        top_values = np.take_along_axis(similarity, top, axis=1)
        positive = top_values > 0
        rows.append(np.nonzero(positive)[0] + start)
        cols.append(top[positive])
        values.append(top_values[positive])
    if not rows:
        return sp.csr_matrix((n, n))
    return sp.csr_matrix((np.concatenate(values), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n))


class ItemKNNRecommender(ItemToItemRecommender):
    """``score(i) = sum_j h_j * sim(j, i)`` over the visitor's items j, each folding in its neighbours.

    Hyper-parameters: ``neighbours`` kept per item, ``shrinkage``, ``weighting``
    (``none``/``tfidf``/``bm25`` with ``bm25_k1``, ``bm25_b``) and an optional own
    ``half_life_days`` (None: the interactions' weighting).
    """

    name = "item_knn"

    def __init__(
        self,
        neighbours: int = 100,
        shrinkage: float = 10.0,
        weighting: str = "bm25",
        bm25_k1: float = 1.2,
        bm25_b: float = 0.75,
        half_life_days: float | None = None,
        max_history: int | None = DEFAULT_MAX_HISTORY,
        random_state: int = 0,
    ):
        super().__init__(random_state, max_history)
        self.neighbours = neighbours
        self.shrinkage = shrinkage
        self.weighting = weighting
        self.bm25_k1 = bm25_k1
        self.bm25_b = bm25_b
        self.half_life_days = half_life_days

    def _fit(self, interactions: Interactions, infos: dict[str, ItemInfo]) -> None:
        matrix = interactions.matrix if self.half_life_days is None else interactions.weighted(self.half_life_days)
        weighted = weight_users(matrix, self.weighting, self.bm25_k1, self.bm25_b)
        self.user_items = sp.csr_matrix(matrix)  # histories decay like the fit's data
        self.similarity = cosine_neighbours(sp.csr_matrix(weighted.T), self.neighbours, self.shrinkage, weighted)

    def _rows(self, indices: np.ndarray) -> sp.csr_matrix:
        return self.similarity[indices]

    def _item_scores(self, visitor: History) -> np.ndarray:
        return csr_weighted_rows(self.similarity, visitor.indices, visitor.weights)

    def _contributions(self, visitor: History, chosen: np.ndarray) -> np.ndarray:
        return csr_block(self.similarity, visitor.indices, chosen) * visitor.weights[:, None]

    def _state(self) -> dict[str, np.ndarray]:
        return pack_csr("similarity", self.similarity)

    def _set_state(self, arrays: dict[str, np.ndarray]) -> None:
        self.similarity = unpack_csr("similarity", arrays)
