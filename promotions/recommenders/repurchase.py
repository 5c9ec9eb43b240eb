"""Buy again: a repurchase model from each customer's inter-purchase intervals, and a blend of it
with a discovery model that decides per visitor, from validation, how much of a list each earns.

``RepurchaseRecommender`` ranks a customer's own items. A purchase *occasion* is a distinct day on
which the customer bought the item. Per (customer, item):

- ``weight``: the occasions, each counting ``2 ** (-age / half_life_days)`` (frequent and recent);
- ``cycle``: the customer's own mean interval between occasions, shrunk towards the item's typical
  cycle (the geometric mean of every customer's interval for that item, itself shrunk towards the
  shop's) with ``cycle_prior`` pseudo-intervals; one occasion gives the item's cycle;
- ``due``: ``exp(-ln(elapsed / cycle)^2 / (2 due_width^2))`` with ``elapsed`` the days since the
  last occasion plus ``horizon_days``: 1 when the next purchase is due, lower before and after;
- score: ``weight * (DUE_FLOOR + due) ** due_strength``.

So a customer who buys every 30 days is due on day 30, not on day 3, and an item bought often
outranks one bought once at equal due-ness. Everything is per customer and needs no neighbour.

``BuyAgainRecommender`` merges the repurchase candidates with a discovery model's list (the
hybrid by default) by the calibrated probability that each is bought next. ``fit`` cuts the
last ``validation_fraction`` of the rows off, fits both parts on the rest, learns two logistic
regressions (repeat candidates; discovery positions) on what the held-out rows show, then refits
both parts on every row. The features describe the candidate and the visitor (how much of their
history is repeat buying, how many items they have, how due their items are), so a loyal
replenisher gets their usual items and a browser gets discovery, without a fixed quota.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np
import scipy.sparse as sp

from .base import (
    DEFAULT_MAX_HISTORY,
    Explainer,
    History,
    ItemInfo,
    Reason,
    Recommendation,
    Recommender,
    pack_csr,
    top_k,
    unpack_csr,
)
from .matrix import SECONDS_PER_DAY, Interactions

#: Added to the due-ness before its power, so an item bought often but not due now still ranks.
DUE_FLOOR = 0.05
#: The shop-wide cycle when no customer bought any item twice.
DEFAULT_CYCLE_DAYS = 30.0


def due_score(elapsed_days: np.ndarray | float, cycle_days: np.ndarray | float, width: float) -> np.ndarray:
    """1 when ``elapsed == cycle``, falling off with the log ratio (``width`` its scale)."""
    ratio = np.log(np.maximum(np.asarray(elapsed_days, dtype=np.float64), 0.5) / np.maximum(cycle_days, 0.5))
    return np.exp(-(ratio**2) / (2.0 * width**2))


def occasions(
    user_codes: np.ndarray, item_codes: np.ndarray, timestamps: np.ndarray, n_items: int
) -> tuple[np.ndarray, np.ndarray]:
    """Distinct (pair key, day) of the rows, sorted by key then day; key = user * n_items + item."""
    keys = user_codes.astype(np.int64) * n_items + item_codes.astype(np.int64)
    days = np.floor(timestamps / SECONDS_PER_DAY).astype(np.int64)
    order = np.lexsort((days, keys))
    keys, days = keys[order], days[order]
    distinct = np.r_[True, (keys[1:] != keys[:-1]) | (days[1:] != days[:-1])] if len(keys) else np.zeros(0, bool)
    return keys[distinct], days[distinct]


class RepurchaseRecommender(Recommender):
    """A customer's own items ranked by how often and recently they bought them and how due they are."""

    name = "repurchase"

    def __init__(
        self,
        half_life_days: float = 180.0,
        due_width: float = 1.0,
        due_strength: float = 0.5,
        cycle_prior: float = 2.0,
        item_prior: float = 5.0,
        horizon_days: float = 14.0,
        random_state: int = 0,
    ):
        super().__init__(random_state, max_history=None)
        self.half_life_days = half_life_days
        self.due_width = due_width
        self.due_strength = due_strength
        self.cycle_prior = cycle_prior
        self.item_prior = item_prior
        self.horizon_days = horizon_days

    def _fit(self, interactions: Interactions, infos: dict[str, ItemInfo]) -> None:
        n_users, n_items = interactions.shape
        keys, days = occasions(interactions.user_codes, interactions.item_codes, interactions.timestamps, n_items)
        pairs, first, counts = np.unique(keys, return_index=True, return_counts=True)
        last = first + counts - 1
        self.now = interactions.now
        age = self.now / SECONDS_PER_DAY - days
        weights = np.add.reduceat(np.exp2(-age / self.half_life_days), first) if len(keys) else np.zeros(0)
        span = (days[last] - days[first]).astype(np.float64)
        # The item's typical cycle: geometric mean of the customers' mean intervals, shrunk to the shop's.
        repeated = counts >= 2
        log_interval = np.log(np.maximum(span[repeated] / np.maximum(counts[repeated] - 1, 1), 1.0))
        shop = float(np.exp(np.mean(log_interval))) if len(log_interval) else DEFAULT_CYCLE_DAYS
        items = pairs[repeated] % n_items
        total = np.bincount(items, weights=log_interval, minlength=n_items)
        seen = np.bincount(items, minlength=n_items)
        self.item_cycles = np.exp((total + self.item_prior * math.log(shop)) / (seen + self.item_prior))
        # The share of the item's customers who bought it on two occasions or more (consumables high).
        buyers = np.bincount(pairs % n_items, minlength=n_items)
        self.item_repeat_rate = (seen + 0.1) / (buyers + 1.0)
        self.shop_cycle = shop
        users, columns = pairs // n_items, pairs % n_items

        def matrix(values: np.ndarray) -> sp.csr_matrix:
            built = sp.csr_matrix((values, (users, columns)), shape=(n_users, n_items))
            built.sort_indices()
            return built

        # One CSR per quantity, all with the pairs' structure (keys are sorted, so data aligns).
        self.pair_counts = matrix(counts.astype(np.float64))
        self.pair_weights = matrix(weights)
        self.pair_span = matrix(span + 1e-9)  # kept stored when zero
        self.pair_last = matrix(days[last].astype(np.float64) * SECONDS_PER_DAY)
        self._index_items()

    def _index_items(self) -> None:
        # Extend per-item arrays to the catalogue the base class may have added.
        if len(self.item_cycles) < len(self.item_ids):
            extra = len(self.item_ids) - len(self.item_cycles)
            self.item_cycles = np.r_[self.item_cycles, np.full(extra, self.shop_cycle)]
            self.item_repeat_rate = np.r_[self.item_repeat_rate, np.full(extra, 0.1)]

    # -- scoring ------------------------------------------------------------------------------

    def candidates(self, user_id: str | None, at: float | None = None) -> dict[str, np.ndarray]:
        """The user's own items with their parts: ``items``, ``count``, ``weight``, ``cycle``
        (days), ``elapsed`` (days since the last occasion at ``at``), ``due`` and ``score``."""
        self._check_fitted()
        user = self.user_index.get(user_id) if user_id is not None else None
        if user is None:
            empty = np.zeros(0)
            return {name: empty for name in ("items", "count", "weight", "cycle", "elapsed", "due", "score")} | {
                "items": np.zeros(0, dtype=np.int64)
            }
        start, stop = self.pair_counts.indptr[user : user + 2]
        items = self.pair_counts.indices[start:stop].astype(np.int64)
        count = self.pair_counts.data[start:stop]
        at = self.now if at is None else float(at)
        # Weights were summed at the fitted "now": one factor per user, the same for all their items.
        weight = self.pair_weights.data[start:stop] * np.exp2(-(at - self.now) / SECONDS_PER_DAY / self.half_life_days)
        intervals = np.maximum(self.pair_span.data[start:stop] / np.maximum(count - 1, 1), 1.0)
        own = np.maximum(count - 1, 0)
        cycle = np.exp(
            (own * np.log(intervals) + self.cycle_prior * np.log(self.item_cycles[items])) / (own + self.cycle_prior)
        )
        elapsed = (at - self.pair_last.data[start:stop]) / SECONDS_PER_DAY
        due = due_score(elapsed + self.horizon_days, cycle, self.due_width)
        score = weight * (DUE_FLOOR + due) ** self.due_strength
        return {
            "items": items,
            "count": count,
            "weight": weight,
            "cycle": cycle,
            "elapsed": elapsed,
            "due": due,
            "score": score,
        }

    def _reason(self, cycle: float, count: float) -> Reason:
        if count >= 2:
            return Reason("buy_again", days=max(round(cycle), 1))
        return Reason("buy_again")

    def recommend(
        self,
        user_id: str | None = None,
        history: Sequence[str] | None = None,
        k: int = 10,
        exclude: Iterable[str] = (),
        at: float | None = None,
    ) -> list[Recommendation]:
        """The user's own items, best first (``history`` is not a purchase record and is ignored);
        ``at``: the time to judge due-ness at (epoch seconds; default the newest fitted row)."""
        parts = self.candidates(user_id, at)
        scores = np.zeros(len(self.item_ids))
        scores[parts["items"]] = parts["score"]
        blocked = np.array([self.item_index[i] for i in exclude if i in self.item_index], dtype=np.int64)
        chosen = top_k(scores, k, blocked)
        where = {int(item): n for n, item in enumerate(parts["items"].tolist())}
        return [
            Recommendation(
                str(self.item_ids[i]),
                float(scores[i]),
                self._reason(float(parts["cycle"][where[i]]), float(parts["count"][where[i]])),
            )
            for i in chosen.tolist()
        ]

    def due_items(
        self, user_id: str, at: float | None = None, min_due: float = 0.5, min_count: int = 2, k: int = 10
    ) -> list[Recommendation]:
        """Items this customer is due to buy again at ``at``: bought on ``min_count`` occasions or
        more and with due-ness at least ``min_due``; the most due first."""
        parts = self.candidates(user_id, at)
        keep = (parts["count"] >= min_count) & (parts["due"] >= min_due)
        order = np.lexsort((parts["items"][keep], -parts["score"][keep], -parts["due"][keep]))[:k]
        picked = {name: values[keep][order] for name, values in parts.items()}
        return [
            Recommendation(str(self.item_ids[i]), float(d), self._reason(float(c), float(n)))
            for i, d, c, n in zip(
                picked["items"].tolist(),
                picked["due"].tolist(),
                picked["cycle"].tolist(),
                picked["count"].tolist(),
                strict=True,
            )
        ]

    def _score(self, visitor: History) -> tuple[np.ndarray, Explainer]:
        scores = np.zeros(len(self.item_ids))
        if visitor.user is not None:
            parts = self.candidates(str(self.user_ids[visitor.user]))
            scores[parts["items"]] = parts["score"]
        return scores, lambda chosen: [Reason("buy_again") for _ in chosen.tolist()]

    def _forget_rows(self, rows: np.ndarray) -> None:
        from .base import without_rows

        for name in ("pair_counts", "pair_weights", "pair_span", "pair_last"):
            setattr(self, name, without_rows(getattr(self, name), rows))

    def _state(self) -> dict[str, np.ndarray]:
        state = {
            "item_cycles": self.item_cycles,
            "item_repeat_rate": self.item_repeat_rate,
            "scalars": np.array([self.now, self.shop_cycle]),
        }
        for name in ("pair_counts", "pair_weights", "pair_span", "pair_last"):
            state.update(pack_csr(name, getattr(self, name)))
        return state

    def _set_state(self, arrays: dict[str, np.ndarray]) -> None:
        self.item_cycles = arrays["item_cycles"]
        self.item_repeat_rate = arrays["item_repeat_rate"]
        self.now, self.shop_cycle = (float(v) for v in arrays["scalars"])
        for name in ("pair_counts", "pair_weights", "pair_span", "pair_last"):
            setattr(self, name, unpack_csr(name, arrays))


#: Features of a repeat candidate and of a discovery candidate (the blend's two calibrations).
REPEAT_FEATURES = (
    "log_weight",
    "log_count",
    "log_elapsed",
    "log_ratio",
    "log_ratio_sq",
    "due",
    "item_repeat_rate",
    "user_items",
    "user_repeat_share",
)
DISCOVERY_FEATURES = ("log_rank", "relative_score", "user_items", "user_repeat_share", "user_max_due")


class Calibration:
    """A logistic regression kept as plain arrays: standardisation, coefficients, intercept."""

    def __init__(self, mean: np.ndarray, scale: np.ndarray, coef: np.ndarray, intercept: float):
        self.mean, self.scale, self.coef, self.intercept = mean, scale, coef, intercept

    @classmethod
    def fit(cls, features: np.ndarray, labels: np.ndarray, n_features: int) -> Calibration:
        """Fitted on (features, labels); with one class only (or none), a constant at its rate."""
        if len(labels) == 0 or labels.min() == labels.max():
            rate = float(labels.mean()) if len(labels) else 0.0
            rate = min(max(rate, 1e-6), 1 - 1e-6)
            return cls(np.zeros(n_features), np.ones(n_features), np.zeros(n_features), math.log(rate / (1 - rate)))
        from sklearn.linear_model import LogisticRegression

        mean, scale = features.mean(axis=0), features.std(axis=0)
        scale = np.where(scale > 0, scale, 1.0)
        model = LogisticRegression(C=1.0, max_iter=1000).fit((features - mean) / scale, labels)
        return cls(mean, scale, model.coef_[0], float(model.intercept_[0]))

    def predict(self, features: np.ndarray) -> np.ndarray:
        if not len(features):
            return np.zeros(0)
        return 1.0 / (1.0 + np.exp(-(((features - self.mean) / self.scale) @ self.coef + self.intercept)))

    def pack(self, name: str) -> dict[str, np.ndarray]:
        return {
            f"{name}.calibration": np.vstack(
                [self.mean, self.scale, self.coef, np.full(len(self.coef), self.intercept)]
            )
        }

    @classmethod
    def unpack(cls, name: str, arrays: dict[str, np.ndarray]) -> Calibration:
        mean, scale, coef, intercept = arrays[f"{name}.calibration"]
        return cls(mean, scale, coef, float(intercept[0]) if len(intercept) else 0.0)


def _log_ratio(elapsed: np.ndarray, cycle: np.ndarray) -> np.ndarray:
    return np.log((np.maximum(elapsed, 0.0) + 1.0) / np.maximum(cycle, 0.5))


class BuyAgainRecommender(Recommender):
    """Repurchase and discovery merged per visitor by the probability, learned on a validation
    cut inside the training rows, that each candidate is bought next."""

    name = "buy_again"
    scores_catalogue_items = True

    def __init__(
        self,
        discovery: str = "hybrid",
        validation_fraction: float = 0.2,
        validation_users: int = 3000,
        repeat_candidates: int = 50,
        discovery_candidates: int = 20,
        half_life_days: float = 180.0,
        due_width: float = 1.0,
        horizon_days: float = 14.0,
        discovery_weight: float = 1.0,
        max_history: int | None = DEFAULT_MAX_HISTORY,
        random_state: int = 0,
    ):
        super().__init__(random_state, max_history)
        self.discovery = discovery
        self.validation_fraction = validation_fraction
        self.validation_users = validation_users
        self.repeat_candidates = repeat_candidates
        self.discovery_candidates = discovery_candidates
        self.half_life_days = half_life_days
        self.due_width = due_width
        self.horizon_days = horizon_days
        self.discovery_weight = discovery_weight

    # -- fitting ------------------------------------------------------------------------------

    def _parts(self) -> tuple[RepurchaseRecommender, Recommender]:
        from .base import registry

        repeat = RepurchaseRecommender(
            half_life_days=self.half_life_days,
            due_width=self.due_width,
            horizon_days=self.horizon_days,
            random_state=self.random_state,
        )
        return repeat, registry()[self.discovery](random_state=self.random_state)

    def _fit(self, interactions: Interactions, infos: dict[str, ItemInfo]) -> None:
        catalogue = list(infos.values())
        self.repeat_calibration, self.discovery_calibration = self._calibrate(interactions, catalogue)
        self.repeat, self.discover = self._parts()
        self.repeat.fit(interactions)
        self.discover.fit(interactions, catalogue)

    def _calibrate(self, interactions: Interactions, catalogue: list[ItemInfo]) -> tuple[Calibration, Calibration]:
        """Fit both parts on the rows before the validation cut and learn, from the rows after
        it, how likely each kind of candidate is to be bought."""
        empty = (
            Calibration.fit(np.zeros((0, len(REPEAT_FEATURES))), np.zeros(0), len(REPEAT_FEATURES)),
            Calibration.fit(np.zeros((0, len(DISCOVERY_FEATURES))), np.zeros(0), len(DISCOVERY_FEATURES)),
        )
        stamps = np.sort(interactions.timestamps)
        if not 0 < self.validation_fraction < 1 or len(stamps) < 10:
            return empty
        cut = stamps[int(math.floor((1 - self.validation_fraction) * len(stamps)))]
        before = interactions.timestamps < cut
        if before.all() or not before.any():
            return empty
        early = Interactions.from_codes(
            interactions.user_ids,
            interactions.user_codes[before],
            interactions.item_ids,
            interactions.item_codes[before],
            interactions.timestamps[before],
            interactions.row_weights[before],
            interactions.half_life_days,
        )
        repeat, discover = self._parts()
        repeat.fit(early)
        discover.fit(early, catalogue)
        later = ~before
        held = {}
        for user, item in zip(
            interactions.user_ids[interactions.user_codes[later]].tolist(),
            interactions.item_ids[interactions.item_codes[later]].tolist(),
            strict=True,
        ):
            held.setdefault(user, set()).add(item)
        users = sorted(user for user in held if user in repeat.user_index)
        if len(users) > self.validation_users:
            rng = np.random.default_rng(self.random_state)
            users = sorted(rng.choice(users, self.validation_users, replace=False).tolist())
        repeat_rows, repeat_labels, discovery_rows, discovery_labels = [], [], [], []
        for user in users:
            own, found = self._candidates(repeat, discover, user, None)
            repeat_rows.append(own[1])
            repeat_labels.append([str(repeat.item_ids[i]) in held[user] for i in own[0].tolist()])
            discovery_rows.append(found[1])
            discovery_labels.append([item in held[user] for item in found[0]])
        return (
            Calibration.fit(*self._stack(repeat_rows, repeat_labels, REPEAT_FEATURES), len(REPEAT_FEATURES)),
            Calibration.fit(
                *self._stack(discovery_rows, discovery_labels, DISCOVERY_FEATURES), len(DISCOVERY_FEATURES)
            ),
        )

    @staticmethod
    def _stack(
        rows: list[np.ndarray], labels: list[list[bool]], names: tuple[str, ...]
    ) -> tuple[np.ndarray, np.ndarray]:
        features = np.vstack(rows) if rows else np.zeros((0, len(names)))
        return features, np.array([x for row in labels for x in row], dtype=np.float64)

    def _candidates(
        self,
        repeat: RepurchaseRecommender,
        discover: Recommender,
        user_id: str | None,
        history: Sequence[str] | None,
        at: float | None = None,
        exclude: Iterable[str] = (),
    ) -> tuple[tuple[np.ndarray, np.ndarray], tuple[list[str], np.ndarray, list[Recommendation]]]:
        """((repeat item indices, their features), (discovery item ids, their features, the recommendations))."""
        parts = repeat.candidates(user_id, at)
        n = len(parts["items"])
        user_items = math.log1p(n)
        occasions_total = float(parts["count"].sum())
        share = float((parts["count"] - 1).clip(min=0).sum() / occasions_total) if occasions_total else 0.0
        max_due = float(parts["due"].max()) if n else 0.0
        top = np.argsort(-parts["score"], kind="stable")[: self.repeat_candidates]
        log_ratio = _log_ratio(parts["elapsed"][top], parts["cycle"][top])
        own = (
            np.column_stack(
                [
                    np.log1p(parts["weight"][top]),
                    np.log1p(parts["count"][top]),
                    np.log1p(np.maximum(parts["elapsed"][top], 0.0)),
                    log_ratio,
                    log_ratio**2,
                    parts["due"][top],
                    repeat.item_repeat_rate[parts["items"][top]],
                    np.full(len(top), user_items),
                    np.full(len(top), share),
                ]
            )
            if len(top)
            else np.zeros((0, len(REPEAT_FEATURES)))
        )
        found = discover.recommend(user_id=user_id, history=history, k=self.discovery_candidates, exclude=exclude)
        best = found[0].score if found and found[0].score > 0 else 1.0
        discovery = np.array(
            [[math.log(rank), r.score / best, user_items, share, max_due] for rank, r in enumerate(found, start=1)]
        ).reshape(len(found), len(DISCOVERY_FEATURES))
        return (parts["items"][top], own), ([r.item_id for r in found], discovery, found)

    # -- recommending -------------------------------------------------------------------------

    def recommend(
        self,
        user_id: str | None = None,
        history: Sequence[str] | None = None,
        k: int = 10,
        exclude: Iterable[str] = (),
        at: float | None = None,
    ) -> list[Recommendation]:
        """The visitor's own items and new ones, merged by the probability of being bought next."""
        self._check_fitted()
        exclude = set(exclude)
        (own_items, own_features), (found_ids, found_features, found) = self._candidates(
            self.repeat, self.discover, user_id, history, at, exclude
        )
        merged: dict[str, Recommendation] = {}
        own_probability = self.repeat_calibration.predict(own_features)
        own_reasons = {r.item_id: r.reason for r in self.repeat.recommend(user_id=user_id, k=len(own_items), at=at)}
        for index, probability in zip(own_items.tolist(), own_probability.tolist(), strict=True):
            item = str(self.repeat.item_ids[index])
            if item not in exclude:
                merged[item] = Recommendation(
                    item, probability, own_reasons.get(item, Reason("buy_again"))
                )
        # The discovery model's order is kept: a position is never more likely than the one above it.
        found_probability = np.minimum.accumulate(self.discovery_calibration.predict(found_features)) if found else []
        for recommendation, probability in zip(
            found, (self.discovery_weight * np.asarray(found_probability)).tolist(), strict=True
        ):
            if recommendation.item_id not in merged or merged[recommendation.item_id].score < probability:
                merged[recommendation.item_id] = Recommendation(
                    recommendation.item_id, probability, recommendation.reason
                )
        return sorted(merged.values(), key=lambda r: (-r.score, r.item_id))[:k]

    def _score(self, visitor: History) -> tuple[np.ndarray, Explainer]:
        user = str(self.user_ids[visitor.user]) if visitor.user is not None else None
        scores = np.zeros(len(self.item_ids))
        for r in self.recommend(user_id=user, k=self.repeat_candidates + self.discovery_candidates):
            if r.item_id in self.item_index:
                scores[self.item_index[r.item_id]] = r.score
        return scores, lambda chosen: [Reason("buy_again") for _ in chosen.tolist()]

    def forget_users(self, user_ids: Iterable[str]) -> int:
        user_ids = list(user_ids)
        self.repeat.forget_users(user_ids)
        self.discover.forget_users(user_ids)
        return super().forget_users(user_ids)

    def _children(self) -> dict[str, Recommender]:
        return {"repeat": self.repeat, "discover": self.discover}

    @classmethod
    def _nested(cls, key: str) -> bool:
        return key in ("repeat", "discover")

    def _set_children(self, children: dict[str, Recommender]) -> None:
        self.repeat, self.discover = children["repeat"], children["discover"]

    def _state(self) -> dict[str, np.ndarray]:
        return {**self.repeat_calibration.pack("repeat"), **self.discovery_calibration.pack("discovery")}

    def _set_state(self, arrays: dict[str, np.ndarray]) -> None:
        self.repeat_calibration = Calibration.unpack("repeat", arrays)
        self.discovery_calibration = Calibration.unpack("discovery", arrays)
