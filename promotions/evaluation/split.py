"""The protocol's global temporal split, ground truth and popularity ranking (steps 1-4)."""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from .data import InteractionLog


class SplitError(ValueError):
    """The data cannot be split as the protocol requires (e.g. nothing before the cut)."""


class SeenItems(Mapping[str, set[str]]):
    """Each train user's distinct train items, kept as one sparse users x items matrix (a set is
    built only for the user asked about: the evaluated users are a small part of all users)."""

    def __init__(self, user_ids: np.ndarray, item_ids: np.ndarray, pairs: sp.csr_matrix):
        self._user_ids, self._item_ids, self._pairs = user_ids, item_ids, pairs

    def _row(self, user: str) -> int:
        at = int(np.searchsorted(self._user_ids, user))
        if at == len(self._user_ids) or self._user_ids[at] != user:
            raise KeyError(user)
        return at

    def __getitem__(self, user: str) -> set[str]:
        row = self._row(user)
        start, stop = self._pairs.indptr[row : row + 2]
        return set(self._item_ids[self._pairs.indices[start:stop]].tolist())

    def count(self, user: str) -> int:
        row = self._row(user)
        return int(self._pairs.indptr[row + 1] - self._pairs.indptr[row])

    def __iter__(self) -> Iterator[str]:
        return iter(self._user_ids.tolist())

    def __len__(self) -> int:
        return len(self._user_ids)


@dataclass(frozen=True)
class Split:
    train: InteractionLog
    test: InteractionLog
    t_cut: float
    #: I and U: distinct train items and users, sorted.
    items: list[str]
    users: list[str]
    #: Each train user's distinct train items.
    seen: Mapping[str, set[str]]
    #: G(u) for the evaluated users (non-empty G only), in user id order.
    truth: dict[str, set[str]]
    #: Distinct train users per item of I.
    item_users: dict[str, int]
    #: I ranked by distinct train users, most first, ties by item id ascending.
    popularity: list[str]


def temporal_split(log: InteractionLog, fraction: float = 0.8) -> Split:
    """``t_cut = ts[floor(fraction * n)]`` of the sorted timestamps; train < t_cut <= test.

    A log in time order (the event log) is cut into two slices that share its arrays; the sets
    the protocol needs are computed on integer codes, never as Python objects per row.
    """
    n = len(log)
    if n == 0:
        raise SplitError("no interaction rows to split")
    stamps = log.timestamps if log.time_ordered else np.sort(log.timestamps)
    t_cut = float(stamps[math.floor(fraction * n)])
    try:
        return split_at(log, t_cut)
    except SplitError as error:
        raise SplitError(
            f"nothing before the cut: the {fraction:.0%} timestamp is also the earliest one, "
            "so the training part would be empty"
        ) from error


def split_at(log: InteractionLog, t_cut: float) -> Split:
    """Steps 1-4 with a given cut: train = rows before ``t_cut``, test = rows at or after it."""
    n = len(log)
    ordered = log.time_ordered
    if ordered:
        cut = int(np.searchsorted(log.timestamps, t_cut, side="left"))
        train, test = log.subset(slice(0, cut)), log.subset(slice(cut, n))
    else:
        in_train = log.timestamps < t_cut
        train, test = log.subset(in_train), log.subset(~in_train)
    if not len(train):
        raise SplitError("nothing before the cut: the training part would be empty")
    n_users, n_items = len(log.user_ids), len(log.item_ids)
    pairs = _pairs(train, n_users, n_items)
    users_per_item = np.diff(pairs.tocsc().indptr)
    train_users = np.flatnonzero(np.diff(pairs.indptr))
    known = np.flatnonzero(users_per_item)
    # G(u): test pairs of train users and known items, less the user's train items.
    test_pairs = _pairs(test, n_users, n_items).tocoo()  # canonical: row-major, sorted
    rows, columns = test_pairs.row, test_pairs.col
    train_keys = _keys(pairs.tocoo(), n_items)
    keys = rows.astype(np.int64) * n_items + columns
    at = np.minimum(np.searchsorted(train_keys, keys), max(len(train_keys) - 1, 0))
    in_train = train_keys[at] == keys if len(train_keys) else np.zeros(len(keys), dtype=bool)
    keep = (np.diff(pairs.indptr)[rows] > 0) & (users_per_item[columns] > 0) & ~in_train
    rows, columns = rows[keep], columns[keep]
    bounds = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1], True]) if len(rows) else np.zeros(1, np.int64)
    truth = {
        str(log.user_ids[rows[start]]): set(log.item_ids[columns[start:stop]].tolist())
        for start, stop in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True)
    }
    counts = users_per_item[known]
    return Split(
        train=train,
        test=test,
        t_cut=t_cut,
        items=log.item_ids[known].tolist(),
        users=log.user_ids[train_users].tolist(),
        seen=SeenItems(log.user_ids[train_users], log.item_ids, pairs[train_users]),
        truth=truth,
        item_users=dict(zip(log.item_ids[known].tolist(), counts.tolist(), strict=True)),
        popularity=log.item_ids[known[np.lexsort((known, -counts))]].tolist(),
    )


def _keys(pairs: sp.coo_matrix, n_items: int) -> np.ndarray:
    return pairs.row.astype(np.int64) * n_items + pairs.col


def _pairs(log: InteractionLog, n_users: int, n_items: int) -> sp.csr_matrix:
    """Users x items, 1 where the user has a row with the item (sorted indices, no duplicates)."""
    ones = np.ones(len(log), dtype=np.int8)
    matrix = sp.csr_matrix((ones, (log.user_codes, log.item_codes)), shape=(n_users, n_items))
    matrix.sum_duplicates()
    matrix.data[:] = 1
    return matrix


def validation_splits(split: Split, fractions: tuple[float, ...] = (0.8,)) -> list[Split]:
    """Steps 1-4 applied to the train rows alone, once per cut (the protocol's tuning splits)."""
    return [temporal_split(split.train, fraction) for fraction in fractions]
