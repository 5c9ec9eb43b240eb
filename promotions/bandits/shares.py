"""Rules every policy shares: active arms only, burn-in, the minimum share, fair tie-breaking."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from promotions.bandits.arms import Arm


class NoActiveArmError(ValueError):
    """Every arm is switched off: the caller serves its fallback instead."""


def active_arms(arms: Sequence[Arm], min_share: float = 0.0, burn_in: int = 0) -> list[Arm]:
    """The arms that may get traffic, after checking the policy's settings against them."""
    if burn_in < 0:
        raise ValueError(f"burn-in must be a non-negative number of visitors, got {burn_in}")
    if len({arm.key for arm in arms}) != len(arms):
        raise ValueError("arm keys must be unique")
    active = [arm for arm in arms if arm.active]
    if not active:
        raise NoActiveArmError("no active arm: every arm is switched off")
    if not 0 <= min_share * len(active) <= 1:
        raise ValueError(f"a minimum share of {min_share} is impossible for {len(active)} active arms")
    return active


def in_burn_in(arms: Sequence[Arm], burn_in: int) -> bool:
    """Equal shares until every arm has ``burn_in`` visitors, so none is judged on a handful."""
    return any(arm.stats.visitors < burn_in for arm in arms)


def argmax(values: np.ndarray, rng: np.random.Generator) -> int:
    """Index of the largest value, ties broken at random (a fixed order would favour the first arm)."""
    # On a Python list: for the handful of arms of a request, faster than numpy's calls.
    listed = values.tolist()
    largest = max(listed)
    best = [index for index, value in enumerate(listed) if value == largest]
    return best[0] if len(best) == 1 else best[int(rng.integers(len(best)))]


def floor_shares(shares: np.ndarray, min_share: float) -> np.ndarray:
    """Shares raised to at least ``min_share`` each, the rest renormalized among the others.

    Plain "floor, then divide by the sum" would push a floored arm back under the floor; here the
    floored arms keep exactly ``min_share`` and the others split what is left in proportion to
    their shares, repeating while that pushes another arm under the floor (at most one pass per arm).
    """
    shares = np.asarray(shares, dtype=float)
    if min_share <= 0:
        return shares / shares.sum()
    floored = np.zeros(len(shares), dtype=bool)
    while True:
        free = ~floored
        left = 1.0 - min_share * floored.sum()
        total = shares[free].sum()
        result = np.full(len(shares), min_share)
        result[free] = shares[free] / total * left if total > 0 else left / free.sum()
        newly = free & (result < min_share)
        if not newly.any():
            return result
        floored |= newly


def spread(arms: Sequence[Arm], active: Sequence[Arm], shares: Sequence[float]) -> dict[str, float]:
    """Shares of the active arms as a mapping over every arm key, switched-off arms at 0."""
    result = {arm.key: 0.0 for arm in arms}
    result.update({arm.key: float(share) for arm, share in zip(active, shares, strict=True)})
    return result
