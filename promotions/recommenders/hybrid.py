"""A hybrid of item-item CF, EASE, content and trending, with fallbacks by what we know of the visitor.

- Nothing (an unknown visitor, empty session): trending items.
- Fewer than ``few_events`` items: content and item-item CF from those items only (EASE is
  left out: its weights are fitted on whole baskets and say little about one or two items).
- Otherwise: the weighted blend of item-item CF, EASE and content.
Scores are then multiplied by each item's freshness, ``(recent users / all users) ** freshness``
with recent users counted by trending's decay: shops' ranges turn over (seasons, discontinued
lines), and an item whose buyers are all in the past is unlikely to be bought next. Items without
interactions yet count as fresh. Each part is a sum over the visitor's items and freshness is one
factor per item, so the score still splits exactly by history item: the reason names the largest
contributor, in the words of the part that contributed most to it. Recent items passed as
``history`` are folded in at request time, so recommendations follow the session without refitting.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import scipy.sparse as sp

from .base import DEFAULT_MAX_HISTORY, Explainer, History, ItemInfo, ItemToItemRecommender, Reason, Recommender
from .content import ContentRecommender
from .ease import EASERecommender
from .item_knn import ItemKNNRecommender
from .matrix import Interactions
from .popularity import TrendingRecommender

#: History items sampled to put the parts' scores on one scale.
SCALE_SAMPLE = 256


class HybridRecommender(Recommender):
    name = "hybrid"
    scores_catalogue_items = True

    def __init__(
        self,
        item_knn_weight: float = 1.0,
        ease_weight: float = 1.0,
        content_weight: float = 0.3,
        freshness: float = 1.0,
        few_events: int = 3,
        trending_half_life_days: float = 14.0,
        max_history: int | None = DEFAULT_MAX_HISTORY,
        random_state: int = 0,
    ):
        super().__init__(random_state, max_history)
        self.item_knn_weight = item_knn_weight
        self.ease_weight = ease_weight
        self.content_weight = content_weight
        self.freshness = freshness
        self.few_events = few_events
        self.trending_half_life_days = trending_half_life_days

    def _fit(self, interactions: Interactions, infos: dict[str, ItemInfo]) -> None:
        parts: dict[str, ItemToItemRecommender] = {}
        if self.item_knn_weight > 0:
            parts["item_knn"] = ItemKNNRecommender(random_state=self.random_state)
        if self.ease_weight > 0:
            parts["ease"] = EASERecommender(random_state=self.random_state)
        if self.content_weight > 0 and infos:
            parts["content"] = ContentRecommender(random_state=self.random_state)
        items = list(infos.values())
        self.parts = {name: part.fit(interactions, items) for name, part in parts.items()}
        self.trending = TrendingRecommender(self.trending_half_life_days, self.random_state).fit(interactions, items)
        self._prepare()
        self.scales = {name: self._scale(name) for name in self.parts}

    def _prepare(self, buyers: np.ndarray | None = None) -> None:
        """Where each part's items sit in the hybrid's item order (a superset of every part's), and
        each item's freshness from its ``buyers`` (users per item; counted when not given)."""
        self.columns = {name: np.searchsorted(self.item_ids, part.item_ids) for name, part in self.parts.items()}
        self.own_index = {}  # hybrid item index -> the part's, -1 where the part lacks the item
        for name, columns in self.columns.items():
            self.own_index[name] = np.full(len(self.item_ids), -1, dtype=np.int64)
            self.own_index[name][columns] = np.arange(len(columns))
        self.trend = np.zeros(len(self.item_ids))
        self.trend[np.searchsorted(self.item_ids, self.trending.item_ids)] = self.trending.item_scores
        users = np.bincount(self.user_items.indices, minlength=len(self.item_ids)) if buyers is None else buyers
        self.buyers = users
        self.share = np.divide(self.trend, users, out=np.ones(len(self.item_ids)), where=users > 0)
        self.fresh = self.share**self.freshness
        self.trend /= max(self.trend.max(initial=0.0), 1e-12)

    def with_freshness(self, freshness: float) -> HybridRecommender:
        """The fitted model with another freshness exponent, without refitting (only the factor
        changes): how validation tries several strengths on one fit."""
        self.freshness = freshness
        self.fresh = self.share**freshness
        return self

    def _scale(self, name: str) -> float:
        """1 / the mean best score one item gives, over a seeded sample of items."""
        part = self.parts[name]
        rng = np.random.default_rng(self.random_state)
        sample = np.sort(rng.choice(len(part.item_ids), size=min(SCALE_SAMPLE, len(part.item_ids)), replace=False))
        rows = part._rows(sample)
        best = rows.max(axis=1).toarray() if sp.issparse(rows) else rows.max(axis=1, initial=0.0)
        best = np.ravel(best)
        best = best[best > 0]
        return 1.0 / best.mean() if len(best) else 0.0

    def _weights(self, visitor: History) -> dict[str, float]:
        weights = {"item_knn": self.item_knn_weight, "ease": self.ease_weight, "content": self.content_weight}
        if len(visitor.indices) < self.few_events:
            weights["ease"] = 0.0
        return {name: weights[name] * self.scales[name] for name in self.parts if weights[name] > 0}

    def _part_visitor(self, name: str, visitor: History) -> History:
        own = self.own_index[name][visitor.indices]
        known = own >= 0
        return History(own[known], visitor.weights[known])

    def _score(self, visitor: History) -> tuple[np.ndarray, Explainer]:
        if not len(visitor.indices):
            return self.trend, lambda chosen: [self._trending_reason(i) for i in chosen.tolist()]
        weights = self._weights(visitor)
        scores = np.zeros(len(self.item_ids))
        for name, weight in weights.items():
            part_visitor = self._part_visitor(name, visitor)
            if len(part_visitor.indices):
                scores[self.columns[name]] += weight * self.parts[name]._item_scores(part_visitor)
        return scores * self.fresh, lambda chosen: self._explain(visitor, weights, chosen)

    def _explain(self, visitor: History, weights: dict[str, float], chosen: np.ndarray) -> list[Reason]:
        names = list(weights)
        # parts x history rows x chosen columns; vectorized because serving explains every item it asks for.
        shares = np.stack([self._part_contributions(name, visitor, chosen) * weights[name] for name in names])
        columns = np.arange(len(chosen))
        sources = np.argmax(shares.sum(axis=0), axis=0)
        totals = shares.sum(axis=0)[sources, columns]
        parts = np.argmax(shares[:, sources, columns], axis=0)
        reasons = []
        for item, source, part, total in zip(
            chosen.tolist(), sources.tolist(), parts.tolist(), totals.tolist(), strict=True
        ):
            if total <= 0:
                reasons.append(self._trending_reason(item))
                continue
            name = names[part]
            reasons.append(self._part_reason(name, int(self.own_index[name][visitor.indices[source]])))
        return reasons

    def _part_reason(self, name: str, source: int) -> Reason:
        """The part's reason naming its item ``source``, built once per item (reasons are immutable)."""
        memo = self.__dict__.setdefault("_reasons", {})
        key = (name, source)
        if key not in memo:
            memo[key] = self.parts[name]._reason(source)
        return memo[key]

    def _part_contributions(self, name: str, visitor: History, chosen: np.ndarray) -> np.ndarray:
        """The part's contributions laid out as hybrid history rows x chosen columns (0 where unknown)."""
        block = np.zeros((len(visitor.indices), len(chosen)))
        rows = np.flatnonzero(self.own_index[name][visitor.indices] >= 0)
        own_chosen = self.own_index[name][chosen]
        columns = np.flatnonzero(own_chosen >= 0)
        if len(rows) and len(columns):
            part_visitor = self._part_visitor(name, visitor)
            block[np.ix_(rows, columns)] = self.parts[name]._contributions(part_visitor, own_chosen[columns])
        return block

    def _trending_reason(self, item: int) -> Reason:
        # The item's own category (an item the trending part lacks must not take another's).
        return Reason("trending", category=str(self.item_categories[item]) or None)

    def forget_users(self, user_ids: Iterable[str]) -> int:
        user_ids = list(user_ids)
        for part in [*self.parts.values(), self.trending]:
            part.forget_users(user_ids)  # each part keeps its own copy of the histories
        forgotten = super().forget_users(user_ids)
        self._prepare()  # their count of buyers goes too
        return forgotten

    # -- serialization: the parts travel inside the hybrid's artifact -------------------------

    def _children(self) -> dict[str, Recommender]:
        return {**{f"part.{name}": part for name, part in self.parts.items()}, "trending": self.trending}

    @classmethod
    def _nested(cls, key: str) -> bool:
        return key.startswith("part.") or key == "trending"

    def _set_children(self, children: dict[str, Recommender]) -> None:
        self.parts = {key.removeprefix("part."): part for key, part in children.items() if key.startswith("part.")}
        self.trending = children["trending"]

    def _state(self) -> dict[str, np.ndarray]:
        # The count of buyers per item is stored: counting it again would read every history at load.
        return {"scales": np.array([self.scales[name] for name in self.parts]), "buyers": self.buyers}

    def _set_state(self, arrays: dict[str, np.ndarray]) -> None:
        self.scales = dict(zip(self.parts, arrays["scales"].tolist(), strict=True))
        self._prepare(arrays.get("buyers"))  # absent from artifacts of the earlier format
