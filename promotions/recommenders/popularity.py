"""Popularity and trending: the baseline, and the fallback for visitors we know nothing about."""

from __future__ import annotations

import numpy as np

from .base import Explainer, History, ItemInfo, Reason, Recommender
from .matrix import Interactions, decay


class PopularityRecommender(Recommender):
    """Items ranked by their number of distinct users, ties by item id (the protocol's baseline)."""

    name = "popularity"

    def __init__(self, random_state: int = 0):
        # The history only says what to skip, so there is nothing to cap.
        super().__init__(random_state, max_history=None)

    def _fit(self, interactions: Interactions, infos: dict[str, ItemInfo]) -> None:
        matrix = interactions.matrix
        self.item_scores = np.bincount(matrix.indices, minlength=matrix.shape[1]).astype(np.float64)

    def _reason(self, index: int) -> Reason:
        return Reason("popular", category=str(self.item_categories[index]) or None)

    def _score(self, visitor: History) -> tuple[np.ndarray, Explainer]:
        return self.item_scores, lambda chosen: [self._reason(i) for i in chosen.tolist()]

    def _state(self) -> dict[str, np.ndarray]:
        return {"item_scores": self.item_scores}

    def _set_state(self, arrays: dict[str, np.ndarray]) -> None:
        self.item_scores = arrays["item_scores"]


class TrendingRecommender(PopularityRecommender):
    """Distinct users again, but each counts by how recently they last touched the item:
    a user from one half-life ago counts 1/2 (relative to the newest row)."""

    name = "trending"

    def __init__(self, half_life_days: float = 14.0, random_state: int = 0):
        super().__init__(random_state)
        self.half_life_days = half_life_days

    def _fit(self, interactions: Interactions, infos: dict[str, ItemInfo]) -> None:
        last_seen = interactions.last_seen
        weights = decay(last_seen.data, interactions.now, self.half_life_days)
        self.item_scores = np.bincount(last_seen.indices, weights=weights, minlength=last_seen.shape[1])

    def _reason(self, index: int) -> Reason:
        return Reason("trending", category=str(self.item_categories[index]) or None)
