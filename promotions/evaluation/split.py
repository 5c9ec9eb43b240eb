"""The protocol's global temporal split, ground truth and popularity ranking (steps 1-4)."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from .data import InteractionLog


class SplitError(ValueError):
    """The data cannot be split as the protocol requires (e.g. nothing before the cut)."""


@dataclass(frozen=True)
class Split:
    train: InteractionLog
    test: InteractionLog
    t_cut: float
    #: I and U: distinct train items and users, sorted.
    items: list[str]
    users: list[str]
    #: Each train user's distinct train items.
    seen: dict[str, set[str]]
    #: G(u) for the evaluated users (non-empty G only), in user id order.
    truth: dict[str, set[str]]
    #: Distinct train users per item of I.
    item_users: dict[str, int]
    #: I ranked by distinct train users, most first, ties by item id ascending.
    popularity: list[str]


def temporal_split(log: InteractionLog, fraction: float = 0.8) -> Split:
    """``t_cut = ts[floor(fraction * n)]`` of the sorted timestamps; train < t_cut <= test."""
    n = len(log)
    if n == 0:
        raise SplitError("no interaction rows to split")
    t_cut = float(np.sort(log.timestamps)[math.floor(fraction * n)])
    in_train = log.timestamps < t_cut
    train, test = log.subset(in_train), log.subset(~in_train)
    if not len(train):
        raise SplitError(
            f"nothing before the cut: the {fraction:.0%} timestamp is also the earliest one, "
            "so the training part would be empty"
        )
    seen: dict[str, set[str]] = defaultdict(set)
    for user, item in zip(train.users.tolist(), train.items.tolist(), strict=True):
        seen[user].add(item)
    item_users: dict[str, int] = defaultdict(int)
    for items in seen.values():
        for item in items:
            item_users[item] += 1
    known = set(item_users)
    test_items: dict[str, set[str]] = defaultdict(set)
    for user, item in zip(test.users.tolist(), test.items.tolist(), strict=True):
        if user in seen and item in known:
            test_items[user].add(item)
    truth = {user: test_items[user] - seen[user] for user in sorted(test_items)}
    return Split(
        train=train,
        test=test,
        t_cut=t_cut,
        items=sorted(known),
        users=sorted(seen),
        seen=dict(seen),
        truth={user: items for user, items in truth.items() if items},
        item_users=dict(item_users),
        popularity=sorted(known, key=lambda item: (-item_users[item], item)),
    )


def validation_splits(split: Split, fractions: tuple[float, ...] = (0.8,)) -> list[Split]:
    """Steps 1-4 applied to the train rows alone, once per cut (the protocol's tuning splits)."""
    return [temporal_split(split.train, fraction) for fraction in fractions]
