"""The interface every recommender shares, in the style of scikit-learn and implicit.

Hyper-parameters go to ``__init__`` (and come back from ``get_params``); ``fit`` learns from an
``Interactions`` matrix and, optionally, item metadata; ``recommend`` ranks items for a known user
or for a visitor described only by recent item ids; ``save``/``load`` go through ``numpy.savez``
with ``allow_pickle=False``, so loading an artifact never executes code from it.
"""

from __future__ import annotations

import inspect
import io
import json
import os
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp

from . import artifact
from .diversity import mmr
from .matrix import Interactions

#: With ``diversity``, ``recommend`` re-ranks this many times ``k`` of the best items.
DIVERSITY_POOL = 5

#: Artifacts carry this version; ``load`` refuses others instead of misreading them.
FORMAT_VERSION = 2
#: The earlier format (a compressed ``.npz``), still loaded, and written by ``save(compress=True)``.
LEGACY_FORMAT_VERSION = 1

#: Default of every model's ``max_history``: the most recent items a request scores from. Serving
#: time grows with the history (a wholesale customer may have touched 1,600 items) while the
#: newest items say the most about what comes next; on the shared online-retail validation split
#: 50 scores within noise of the whole history (docs/recommenders.md has the figures).
DEFAULT_MAX_HISTORY = 50


@dataclass(frozen=True)
class Reason:
    """Why an item is recommended, as data: a kind and what it names (an item of the visitor's
    history, or the item's category). No text: the serving layer words it in the page's language
    (``promotions.serving.reasons``), so the same reason reads in English and in Chinese.

    Kinds of the models: ``also_bought`` (people who chose ``item_id`` chose this),
    ``similar_content`` (like ``item_id``, which the visitor looked at), ``similar_taste``
    (because the visitor chose ``item_id``), ``next_in_session`` (often chosen after ``item_id``),
    ``similar_customers``, ``popular`` and ``trending`` (in ``category`` when it is known),
    ``buy_again`` (bought every ``days`` days, when the item's cycle is known).
    """

    kind: str
    item_id: str | None = None
    category: str | None = None
    days: int | None = None

    def as_list(self) -> list[str | int | None]:
        """``[kind, item_id, category, days]``: how a reason is stored (JSON, caches)."""
        return [self.kind, self.item_id, self.category, self.days]

    @classmethod
    def from_list(cls, value: Any) -> Reason | None:
        """The reason ``as_list`` stored; None for anything else (an older cache entry's text)."""
        if isinstance(value, list | tuple) and len(value) in (3, 4) and isinstance(value[0], str):
            return cls(*value)
        return None


@dataclass(frozen=True)
class Recommendation:
    item_id: str
    score: float
    reason: Reason


@dataclass(frozen=True)
class ItemInfo:
    """Item metadata for content features and for naming items in explanations."""

    item_id: str
    title: str = ""
    description: str = ""
    category: str = ""
    brand: str = ""
    price: float | None = None

    @classmethod
    def coerce(cls, item: ItemInfo | Mapping[str, Any]) -> ItemInfo:
        """Accept an ``ItemInfo`` or a mapping with the same keys (``id`` and ``text`` also work)."""
        if isinstance(item, ItemInfo):
            return item
        price = item.get("price")
        return cls(
            item_id=str(item.get("item_id", item.get("id", ""))),
            title=str(item.get("title") or ""),
            description=str(item.get("description") or item.get("text") or ""),
            category=str(item.get("category") or ""),
            brand=str(item.get("brand") or ""),
            price=float(price) if price not in (None, "") else None,
        )


ItemsArgument = Iterable[ItemInfo | Mapping[str, Any]] | None
Explainer = Callable[[np.ndarray], list[Reason]]


class NotFittedError(RuntimeError):
    pass


@dataclass(frozen=True)
class History:
    """A visitor as the models see them: item indices (sorted, distinct) with weights.

    ``indices`` are the items scored from (at most the model's ``max_history``); ``seen`` are all
    the visitor's items, which are never recommended back (None: the same as ``indices``).
    """

    indices: np.ndarray
    weights: np.ndarray
    #: The stored user's index, if the visitor is a known user.
    user: int | None = None
    seen: np.ndarray | None = None

    @property
    def touched(self) -> np.ndarray:
        return self.indices if self.seen is None else self.seen


class Recommender:
    """Base class: id bookkeeping, history vectors, top-k selection, serialization.

    Subclasses implement ``_fit`` and ``_score``; their learned state lives in ``_state`` arrays.
    """

    #: Name used in the model registry, in artifacts and in evaluation tables.
    name: ClassVar[str] = ""

    def __init__(self, random_state: int = 0, max_history: int | None = DEFAULT_MAX_HISTORY):
        self.random_state = random_state
        #: Score from at most this many of the visitor's most recent items (None: all of them).
        self.max_history = max_history

    # -- parameters ---------------------------------------------------------------------------

    def get_params(self) -> dict[str, Any]:
        names = [p for p in inspect.signature(type(self).__init__).parameters if p != "self"]
        return {name: getattr(self, name) for name in names}

    def set_params(self, **params: Any) -> Recommender:
        valid = self.get_params()
        for key, value in params.items():
            if key not in valid:
                raise ValueError(f"{type(self).__name__} has no parameter {key!r}")
            setattr(self, key, value)
        return self

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({params})"

    # -- fitting ------------------------------------------------------------------------------

    #: Whether items known only from the catalogue (no interactions yet) can be recommended.
    scores_catalogue_items: ClassVar[bool] = False

    def fit(self, interactions: Interactions, items: ItemsArgument = None) -> Recommender:
        infos = {info.item_id: info for info in map(ItemInfo.coerce, items or ())}
        self.item_ids = interactions.item_ids
        self.user_ids = interactions.user_ids
        self.user_items = interactions.matrix.tocsr()
        if self.scores_catalogue_items and not set(infos) <= set(self.item_ids.tolist()):
            self.item_ids = np.union1d(self.item_ids, np.array(sorted(infos), dtype=str))
            self.user_items = reindex_columns(self.user_items, interactions.item_ids, self.item_ids)
        last_seen = interactions.last_seen
        # Shared, not copied, when already sorted (as built): a hybrid's parts fit on one matrix.
        self.last_seen = last_seen if last_seen.has_sorted_indices else last_seen.sorted_indices()
        if len(self.item_ids) != len(interactions.item_ids):
            self.last_seen = reindex_columns(self.last_seen, interactions.item_ids, self.item_ids)
        self.item_titles = np.array([infos[i].title if i in infos else "" for i in self.item_ids], dtype=str)
        self.item_categories = np.array([infos[i].category if i in infos else "" for i in self.item_ids], dtype=str)
        self._build_indexes()
        self._fit(interactions, infos)
        return self

    def _fit(self, interactions: Interactions, infos: dict[str, ItemInfo]) -> None:
        raise NotImplementedError

    def _build_indexes(self, user_order: np.ndarray | None = None) -> None:
        self.item_index = {item: i for i, item in enumerate(self.item_ids.tolist())}
        # A search in sorted order rather than a dict: a loaded artifact stores the order, so
        # nothing here grows with the users. An empty id is a forgotten user's row
        # (``forget_users``): it answers to no id.
        self.user_index = artifact.IdIndex(self.user_ids, user_order)

    def forget_users(self, user_ids: Iterable[str]) -> int:
        """Remove what the model stores per user for these ids (erasure); returns how many it knew.

        Their id is blanked and their rows emptied, so they are served like an unknown visitor and
        no longer count as anyone's neighbour; shapes stay as they were. What they contributed to
        shared item parameters stays until the next fit, which no longer sees their events.
        """
        self._check_fitted()
        rows = np.array(sorted({self.user_index[u] for u in user_ids if u in self.user_index}), dtype=np.int64)
        if not len(rows):
            return 0
        self.user_ids = self.user_ids.copy()
        self.user_ids[rows] = ""
        self.user_items = without_rows(self.user_items, rows)
        if self.last_seen is not None:
            self.last_seen = without_rows(self.last_seen, rows)
        self._forget_rows(rows)
        self._build_indexes()
        return len(rows)

    def _forget_rows(self, rows: np.ndarray) -> None:
        """Empty a model's own per-user state at these rows (models that keep some override this)."""

    def _check_fitted(self) -> None:
        if not hasattr(self, "item_ids"):
            raise NotFittedError(f"{type(self).__name__} is not fitted yet")

    # -- recommending -------------------------------------------------------------------------

    def history(self, user_id: str | None = None, items: Sequence[str] | None = None) -> History:
        """The visitor's items and weights: the user's stored weights scaled to a maximum of 1, and
        weight 1 for each recent item in ``items`` (oldest first; the current session counts as
        much as the strongest past interaction). Unknown ids are ignored.

        Scoring uses at most ``max_history`` items: the newest session items, then the user's
        most recently touched stored items. Every item the visitor touched stays in ``seen``.
        """
        self._check_fitted()
        user = self.user_index.get(user_id) if user_id is not None else None
        indices, weights = np.zeros(0, dtype=np.int64), np.zeros(0)
        # Newest first, distinct: the session's items in the order they were given, reversed.
        session = list(dict.fromkeys(self.item_index[i] for i in reversed(items or ()) if i in self.item_index))
        cap = self.max_history
        recent = session if cap is None else session[:cap]
        stored = indices
        if user is not None:
            start, stop = self.user_items.indptr[user : user + 2]
            stored = indices = self.user_items.indices[start:stop].astype(np.int64)
            weights = self.user_items.data[start:stop].astype(np.float64)
            weights = weights / weights.max() if len(weights) else weights
            room = None if cap is None else cap - len(recent)
            if room is not None and len(indices) > room:
                keep = self._newest(user, indices, room)
                indices, weights = indices[keep], weights[keep]
        seen = (
            np.union1d(stored, np.array(session, dtype=np.int64))
            if len(indices) < len(stored) or len(recent) < len(session)
            else None
        )
        if recent:
            indices = np.concatenate([indices, recent])
            weights = np.concatenate([weights, np.ones(len(recent))])
        order = np.lexsort((-weights, indices))
        indices, weights = indices[order], weights[order]
        first = np.r_[True, indices[1:] != indices[:-1]][: len(indices)]  # keep each item's max weight
        return History(indices[first], weights[first], user, seen)

    def _newest(self, user: int, indices: np.ndarray, n: int) -> np.ndarray:
        """Positions in the user's (sorted) row ``indices`` of their ``n`` most recently touched
        items, ties to the lower item index; an artifact saved without times keeps the heaviest."""
        start, stop = self.user_items.indptr[user : user + 2]
        if self.last_seen is None:
            stamps = self.user_items.data[start:stop]
        else:
            start, stop = self.last_seen.indptr[user : user + 2]
            row, times = self.last_seen.indices[start:stop], self.last_seen.data[start:stop]
            at = np.minimum(np.searchsorted(row, indices), max(len(row) - 1, 0))
            stamps = np.where(row[at] == indices, times[at], -np.inf) if len(row) else np.full(len(indices), -np.inf)
        return np.sort(np.lexsort((indices, -stamps))[:n])

    def recommend(
        self,
        user_id: str | None = None,
        history: Sequence[str] | None = None,
        k: int = 10,
        exclude: Iterable[str] = (),
        diversity: float = 0.0,
    ) -> list[Recommendation]:
        """The top ``k`` items for a known user and/or a list of recent item ids, best first.

        Items the visitor already touched and those in ``exclude`` are skipped; only items with a
        positive score are returned, so a list may be shorter than ``k``. ``diversity`` (0-1)
        re-ranks the best ``DIVERSITY_POOL * k`` by MMR over the items' categories (``diversity.mmr``).
        """
        visitor = self.history(user_id, history)
        scores, explain = self._score(visitor)
        blocked = [self.item_index[i] for i in exclude if i in self.item_index]
        pool = k * DIVERSITY_POOL if diversity else k
        chosen = top_k(scores, pool, np.concatenate([visitor.touched, np.array(blocked, dtype=np.int64)]))
        if diversity:
            ranked = [(i, float(scores[i])) for i in chosen.tolist()]
            categories = {i: str(self.item_categories[i]) for i, _ in ranked}
            chosen = np.array(mmr(ranked, categories, k, diversity), dtype=np.int64)
        return [
            Recommendation(str(self.item_ids[i]), float(scores[i]), reason)
            for i, reason in zip(chosen.tolist(), explain(chosen), strict=True)
        ]

    def _score(self, visitor: History) -> tuple[np.ndarray, Explainer]:
        """Scores for every item, and a callable giving the ``Reason`` of each chosen index."""
        raise NotImplementedError

    def similar_items(self, item_id: str, k: int = 10) -> list[Recommendation]:
        """Items most like ``item_id`` for this model (what a one-item history would get)."""
        self._check_fitted()
        if item_id not in self.item_index:
            return []
        return self.recommend(history=[item_id], k=k)

    def item_name(self, index: int) -> str:
        return str(self.item_titles[index] or self.item_ids[index])

    # -- serialization ------------------------------------------------------------------------

    def save(self, compress: bool = False) -> bytes:
        """The fitted model as artifact bytes (no pickled objects).

        By default the format of ``artifact``: raw arrays that ``load`` maps from a file, so a web
        worker's load takes milliseconds at any number of users. ``compress=True`` writes the
        earlier ``.npz`` format instead (format 1: smaller, but every load decompresses it all).
        """
        self._check_fitted()
        if not compress:
            return artifact.dumps(self._tree(), {"format": FORMAT_VERSION})
        arrays = {
            **self._arrays(),
            **{key: np.frombuffer(child.save(compress=True), np.uint8) for key, child in self._children().items()},
        }
        header = {"format": LEGACY_FORMAT_VERSION, "model": self.name, "params": self.get_params()}
        buffer = io.BytesIO()
        np.savez_compressed(buffer, __header__=np.array(json.dumps(header)), **arrays)
        return buffer.getvalue()

    def _arrays(self) -> dict[str, np.ndarray]:
        return {
            "item_ids": self.item_ids,
            "user_ids": self.user_ids,
            "item_titles": self.item_titles,
            "item_categories": self.item_categories,
            **pack_csr("user_items", self.user_items),
            **pack_csr("last_seen", self.last_seen),
            **self._state(),
        }

    def _tree(self) -> artifact.Tree:
        index = self.user_index
        order = index.order if isinstance(index, artifact.IdIndex) else np.argsort(self.user_ids, kind="stable")
        return {
            "model": self.name,
            "params": self.get_params(),
            "arrays": {**self._arrays(), "user_order": order.astype(np.int64, copy=False)},
            "children": {key: child._tree() for key, child in self._children().items()},
        }

    @staticmethod
    def stored_user_ids(data: bytes | str | os.PathLike[str]) -> list[str]:
        """The user ids an artifact holds (bytes or a file), read without loading the rest of it."""
        if artifact_format(data) == FORMAT_VERSION:
            return artifact.load(data)[1]["arrays"]["user_ids"].tolist()
        with np.load(data if isinstance(data, (str, os.PathLike)) else io.BytesIO(data), allow_pickle=False) as archive:
            return archive["user_ids"].tolist()

    @classmethod
    def load(cls, data: bytes | str | os.PathLike[str]) -> Recommender:
        """Rebuild a model saved by ``save`` from its bytes or its file (call on the class, or on
        ``Recommender`` for any). A file in the current format is memory-mapped, read-only."""
        if artifact_format(data) == FORMAT_VERSION:
            header, tree = artifact.load(data)
            if header.get("format") != FORMAT_VERSION:
                raise ValueError(f"Unsupported model artifact format {header.get('format')!r}")
            return cls._from_tree(tree)
        if isinstance(data, (str, os.PathLike)):
            with open(data, "rb") as handle:
                data = handle.read()
        try:
            with np.load(io.BytesIO(data), allow_pickle=False) as archive:
                arrays = {key: archive[key] for key in archive.files}
            header = json.loads(str(arrays.pop("__header__")))
        except (OSError, EOFError, KeyError, zipfile.BadZipFile) as error:
            raise ValueError(f"Not a model artifact: {error}") from None
        if header.get("format") != LEGACY_FORMAT_VERSION:
            raise ValueError(f"Unsupported model artifact format {header.get('format')!r}")
        model = cls._model_class(header["model"])(**header["params"])
        children = {key: Recommender.load(arrays.pop(key).tobytes()) for key in list(arrays) if model._nested(key)}
        model._restore(arrays, children, None)
        return model

    @classmethod
    def _model_class(cls, name: Any) -> type[Recommender]:
        model_class = cls if cls.name == name else registry().get(name)
        if model_class is None:
            raise ValueError(f"The artifact holds an unknown model {name!r}")
        if not issubclass(model_class, cls):
            raise ValueError(f"The artifact holds a {name!r} model, not a {cls.name!r}")
        return model_class

    @classmethod
    def _from_tree(cls, tree: artifact.Tree) -> Recommender:
        model = cls._model_class(tree["model"])(**tree["params"])
        children = {key: Recommender._from_tree(child) for key, child in tree["children"].items()}
        arrays = dict(tree["arrays"])
        model._restore(arrays, children, arrays.pop("user_order", None))
        return model

    def _restore(self, arrays: dict[str, np.ndarray], children: dict[str, Recommender], order: Any) -> None:
        self.item_ids = arrays.pop("item_ids")
        self.user_ids = arrays.pop("user_ids")
        self.item_titles = arrays.pop("item_titles")
        self.item_categories = arrays.pop("item_categories")
        self.user_items = unpack_csr("user_items", arrays)
        # Artifacts saved before request-time history caps carry no times: cap by weight instead.
        self.last_seen = unpack_csr("last_seen", arrays) if "last_seen.data" in arrays else None
        self._build_indexes(order)
        self._set_children(children)
        self._set_state(arrays)

    def _children(self) -> dict[str, Recommender]:
        """Models this one is made of, saved inside its artifact (a hybrid's parts)."""
        return {}

    def _set_children(self, children: dict[str, Recommender]) -> None:
        """Take back what ``_children`` gave, before ``_set_state``."""

    @classmethod
    def _nested(cls, key: str) -> bool:
        """Whether a format 1 array of this model is a nested artifact (one of ``_children``)."""
        return False

    def _state(self) -> dict[str, np.ndarray]:
        return {}

    def _set_state(self, arrays: dict[str, np.ndarray]) -> None:
        """Restore what ``_state`` saved."""


class ItemToItemRecommender(Recommender):
    """Models whose score adds up over the history: ``score(i) = sum_j h_j * W[j, i]``.

    Because the score is a sum of per-item contributions, the reason can name the history item
    with the largest contribution, and removing that item lowers the score by exactly that much.
    """

    def _rows(self, indices: np.ndarray) -> np.ndarray | sp.csr_matrix:
        """``W[indices]``: what each of these history items adds to every item's score."""
        raise NotImplementedError

    def _item_scores(self, visitor: History) -> np.ndarray:
        """``h @ W`` for every item (a subclass may compute it without building the rows)."""
        return np.asarray(self._rows(visitor.indices).T @ visitor.weights).ravel()

    def _contributions(self, visitor: History, chosen: np.ndarray) -> np.ndarray:
        """``h_j * W[j, i]``: history items x chosen items."""
        block = self._rows(visitor.indices)[:, chosen]
        block = block.toarray() if sp.issparse(block) else block
        return block * visitor.weights[:, None]

    def _reason(self, source: int) -> Reason:
        return Reason("also_bought", str(self.item_ids[source]))

    def _score(self, visitor: History) -> tuple[np.ndarray, Explainer]:
        if not len(visitor.indices):
            return np.zeros(len(self.item_ids)), lambda chosen: []

        def explain(chosen: np.ndarray) -> list[Reason]:
            if not len(chosen):
                return []
            sources = np.argmax(self._contributions(visitor, chosen), axis=0)
            return [self._reason(int(visitor.indices[j])) for j in sources.tolist()]

        return self._item_scores(visitor), explain


def csr_entries(matrix: sp.csr_matrix, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The stored entries of ``matrix[rows]``: (position in ``rows``, column, value) arrays.

    Plain numpy on ``indptr``: scipy's row fancy-indexing re-checks the whole matrix on every call
    (about 0.5 ms here), which would dominate one request's time.
    """
    rows = np.asarray(rows, dtype=np.int64)
    starts = matrix.indptr[rows].astype(np.int64)
    lengths = matrix.indptr[rows + 1].astype(np.int64) - starts
    ends = np.cumsum(lengths)
    offsets = np.arange(ends[-1] if len(ends) else 0) + np.repeat(starts - (ends - lengths), lengths)
    return np.repeat(np.arange(len(rows)), lengths), matrix.indices[offsets], matrix.data[offsets]


def without_rows(matrix: sp.spmatrix, rows: np.ndarray) -> sp.csr_matrix:
    """``matrix`` (CSR) with every entry of ``rows`` removed; the shape is kept."""
    keep = np.ones(matrix.shape[0])
    keep[rows] = 0.0
    emptied = sp.csr_matrix(sp.diags(keep) @ sp.csr_matrix(matrix), dtype=matrix.dtype)
    emptied.eliminate_zeros()
    emptied.sort_indices()  # the product may leave rows unsorted; ``_newest`` searches them
    return emptied


def csr_weighted_rows(matrix: sp.csr_matrix, rows: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """``weights @ matrix[rows]`` as a dense vector."""
    positions, columns, values = csr_entries(matrix, rows)
    return np.bincount(columns, weights=values * weights[positions], minlength=matrix.shape[1])


def csr_block(matrix: sp.csr_matrix, rows: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """``matrix[rows][:, columns]`` as a dense array (``columns`` distinct; ``matrix`` canonical,
    i.e. no column twice in a row, as scipy leaves every matrix built from (data, (i, j)))."""
    positions, stored, values = csr_entries(matrix, rows)
    where = np.full(matrix.shape[1], -1, dtype=np.int64)
    where[columns] = np.arange(len(columns))
    hit = where[stored] >= 0
    block = np.zeros((len(rows), len(columns)))
    block[positions[hit], where[stored[hit]]] = values[hit]
    return block


def top_k(scores: np.ndarray, k: int, blocked: np.ndarray) -> np.ndarray:
    """Indices of the ``k`` best positive scores, ties broken by index (= item id order)."""
    scores = scores.copy()
    scores[blocked] = 0.0
    candidates = np.flatnonzero(scores > 0)
    if len(candidates) > k:
        # Keep every candidate tied with the k-th best, then order exactly.
        kth = np.partition(scores[candidates], len(candidates) - k)[len(candidates) - k]
        candidates = candidates[scores[candidates] >= kth]
    order = np.lexsort((candidates, -scores[candidates]))
    return candidates[order[:k]]


def reindex_columns(matrix: sp.csr_matrix, old_ids: np.ndarray, new_ids: np.ndarray) -> sp.csr_matrix:
    """The same matrix with its columns moved from ``old_ids`` to positions in the sorted ``new_ids``."""
    matrix = sp.csr_matrix(matrix)
    positions = np.searchsorted(new_ids, old_ids)
    return sp.csr_matrix((matrix.data, positions[matrix.indices], matrix.indptr), shape=(matrix.shape[0], len(new_ids)))


def pack_csr(name: str, matrix: sp.spmatrix) -> dict[str, np.ndarray]:
    matrix = sp.csr_matrix(matrix)
    return {
        f"{name}.data": matrix.data,
        f"{name}.indices": matrix.indices,
        f"{name}.indptr": matrix.indptr,
        f"{name}.shape": np.array(matrix.shape),
    }


def unpack_csr(name: str, arrays: dict[str, np.ndarray]) -> sp.csr_matrix:
    parts = [arrays.pop(f"{name}.{part}") for part in ("data", "indices", "indptr", "shape")]
    return sp.csr_matrix((parts[0], parts[1], parts[2]), shape=tuple(parts[3]))


def artifact_format(data: bytes | str | os.PathLike[str]) -> int:
    """``FORMAT_VERSION`` for an artifact of the current format, else the legacy one (bytes or a file)."""
    if isinstance(data, (str, os.PathLike)):
        with open(data, "rb") as handle:
            data = handle.read(len(artifact.MAGIC))
    return FORMAT_VERSION if artifact.is_artifact(bytes(data[: len(artifact.MAGIC)])) else LEGACY_FORMAT_VERSION


def registry() -> dict[str, type[Recommender]]:
    """Every concrete model by name (imported here to keep ``base`` free of import cycles)."""
    from . import MODELS, REPEAT_MODELS

    return {**MODELS, **REPEAT_MODELS}
