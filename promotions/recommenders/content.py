"""Content-based recommendations: items described by their text, category, brand and price band.

The seed article's 4.1 compares a visitor profile (the weighted mean of the items they touched)
with each item by cosine. For one visitor the ranking by ``cos(profile, x_i)`` equals the ranking
by ``sum_j h_j * cos(x_j, x_i)`` (the two differ by a factor that is the same for every item), and
the latter is what the score reports: it splits exactly into one contribution per touched item.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize

from .base import (
    DEFAULT_MAX_HISTORY,
    History,
    ItemInfo,
    ItemToItemRecommender,
    Reason,
    csr_entries,
    csr_weighted_rows,
    pack_csr,
    unpack_csr,
)
from .matrix import Interactions


def one_hot(values: list[str]) -> sp.csr_matrix:
    """One column per distinct non-empty value; empty values get an empty row."""
    vocabulary = {value: column for column, value in enumerate(sorted(set(values) - {""}))}
    rows = [row for row, value in enumerate(values) if value]
    columns = [vocabulary[values[row]] for row in rows]
    return sp.csr_matrix((np.ones(len(rows)), (rows, columns)), shape=(len(values), len(vocabulary)))


def price_bands(prices: list[float | None], bands: int) -> list[str]:
    """Each price's quantile band over the catalogue ("" when unknown), so cheap goes with cheap."""
    known = np.array([p for p in prices if p is not None], dtype=np.float64)
    if not len(known) or bands < 1:
        return ["" for _ in prices]
    edges = np.quantile(known, np.linspace(0, 1, bands + 1)[1:-1])
    return ["" if p is None else str(int(np.searchsorted(edges, p, side="right"))) for p in prices]


class ContentRecommender(ItemToItemRecommender):
    """TF-IDF of title and description, one-hot category, brand and price band; cosine.

    Each feature block is L2-normalised and scaled by the square root of its weight, so a block's
    weight is its share in the dot product; items without metadata get no content score.
    """

    name = "content"
    scores_catalogue_items = True

    def __init__(
        self,
        text_weight: float = 1.0,
        category_weight: float = 0.5,
        brand_weight: float = 0.5,
        price_weight: float = 0.2,
        price_bands: int = 5,
        max_history: int | None = DEFAULT_MAX_HISTORY,
        random_state: int = 0,
    ):
        super().__init__(random_state, max_history)
        self.text_weight = text_weight
        self.category_weight = category_weight
        self.brand_weight = brand_weight
        self.price_weight = price_weight
        self.price_bands = price_bands

    def _fit(self, interactions: Interactions, infos: dict[str, ItemInfo]) -> None:
        described = [infos.get(item, ItemInfo(item)) for item in self.item_ids.tolist()]
        texts = [f"{info.title} {info.description}".strip() for info in described]
        blocks = [
            (self.text_weight, self._tfidf(texts)),
            (self.category_weight, one_hot([info.category for info in described])),
            (self.brand_weight, one_hot([info.brand for info in described])),
            (self.price_weight, one_hot(price_bands([info.price for info in described], self.price_bands))),
        ]
        used = [np.sqrt(weight) * normalize(block) for weight, block in blocks if weight > 0 and block.shape[1]]
        features = sp.csr_matrix(sp.hstack(used)) if used else sp.csr_matrix((len(described), 1))
        self.features = normalize(features)

    @staticmethod
    def _tfidf(texts: list[str]) -> sp.csr_matrix:
        if not any(texts):
            return sp.csr_matrix((len(texts), 0))
        return TfidfVectorizer(sublinear_tf=True, dtype=np.float64).fit_transform(texts)

    def _rows(self, indices: np.ndarray) -> sp.csr_matrix:
        return sp.csr_matrix(self.features[indices] @ self.features.T)

    def _item_scores(self, visitor: History) -> np.ndarray:
        # Through the (unnormalised) profile: one sparse product instead of items x items.
        profile = csr_weighted_rows(self.features, visitor.indices, visitor.weights)
        return np.asarray(self.features @ profile).ravel()

    def _contributions(self, visitor: History, chosen: np.ndarray) -> np.ndarray:
        # Dense feature rows of the few chosen items, dotted with the history's stored entries.
        dense = np.zeros((len(chosen), self.features.shape[1]))
        rows, columns, values = csr_entries(self.features, chosen)
        dense[rows, columns] = values
        rows, columns, values = csr_entries(self.features, visitor.indices)
        history = len(visitor.indices)
        keys = (np.arange(len(chosen))[:, None] * history + rows[None, :]).ravel()
        block = np.bincount(keys, weights=(dense[:, columns] * values).ravel(), minlength=len(chosen) * history)
        return block.reshape(len(chosen), history).T * visitor.weights[:, None]

    def _reason(self, source: int) -> Reason:
        return Reason("similar_content", str(self.item_ids[source]))

    def _state(self) -> dict[str, np.ndarray]:
        return pack_csr("features", self.features)

    def _set_state(self, arrays: dict[str, np.ndarray]) -> None:
        self.features = unpack_csr("features", arrays)
