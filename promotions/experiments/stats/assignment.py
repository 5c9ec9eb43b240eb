"""Experiment assignment: pure functions from (experiment, unit id) to a variant.

Assignment is deterministic hashing, so no table has to be read to know a new unit's variant and
every process, machine and Python version agrees on it. The hash is SHA-256 (``hashlib``, the same
everywhere; Python's ``hash()`` is salted per process) of the length-prefixed UTF-8 parts
(salt, purpose, unit id); its first 53 bits give a point in [0, 1) with 2**53 buckets, each point
an exact float. Three independent purposes, so changing one setting does not reshuffle the others:

- ``traffic``: the unit is in the experiment when its traffic point is below the traffic share, so
  raising or lowering the share only adds or removes units and leaves the variant of those that
  stay in unchanged;
- ``variant``: the point falls into one of the consecutive ranges the variant weights cut [0, 1)
  into;
- ``layer``: hashed with the *layer's* salt, shared by the experiments of a layer, which own
  disjoint ranges of it, so a unit is in at most one of them.

Once a unit is exposed its variant is recorded (by the models, later) and wins over hashing:
changing weights, traffic share or layer ranges afterwards does not move exposed units.

Units are strings; the caller namespaces them (e.g. ``user:42`` and ``visitor:ab12``) so that two
kinds of id never collide. No Django import here: the models build an ``ExperimentSpec``.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import math
from bisect import bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

Weight = float | Decimal | Fraction

# Weights come from decimals typed into the admin; their float sum is 1 only to rounding.
WEIGHT_TOLERANCE = 1e-9
# 53 bits: every point k / 2**53 is an exact float, so the frozen test values compare with ==.
POINT_BITS = 53
FACTOR_SEPARATOR = "|"
LEVEL_SEPARATOR = "="

TRAFFIC = "traffic"
VARIANT = "variant"
LAYER = "layer"


def _length_prefixed(text: str) -> bytes:
    encoded = text.encode()
    return len(encoded).to_bytes(4, "big") + encoded


@functools.lru_cache(maxsize=1024)
def _prefix(salt: str, purpose: str) -> bytes:
    """The encoded (salt, purpose), cached: an experiment hashes many units with the same two."""
    return _length_prefixed(salt) + _length_prefixed(purpose)


def hash_point(salt: str, purpose: str, unit_id: str) -> float:
    """Where a unit falls in [0, 1) for one salt and purpose: a stable SHA-256 bucket.

    Each part is length-prefixed so that no two different (salt, purpose, unit) triples hash the
    same bytes (plain joining would confuse salt "a:b", unit "c" with salt "a", unit "b:c").
    """
    digest = hashlib.sha256(_prefix(salt, purpose) + _length_prefixed(unit_id)).digest()
    return (int.from_bytes(digest[:8], "big") >> (64 - POINT_BITS)) / (1 << POINT_BITS)


@dataclass(frozen=True)
class VariantSpec:
    """A variant key and its share of the experiment's units (a float, Decimal or Fraction)."""

    key: str
    weight: float

    def __post_init__(self) -> None:
        # Decimals from the database become floats once here, so bounds are cheap to compare.
        weight = float(self.weight)
        if not math.isfinite(weight) or weight < 0:
            raise ValueError(f"Variant {self.key!r} has weight {self.weight}: a weight must be a number >= 0.")
        object.__setattr__(self, "weight", weight)


@dataclass(frozen=True)
class LayerSlot:
    """An experiment's range [start, end) of its layer's hash space; ``salt`` is the layer's."""

    salt: str
    start: float
    end: float

    def __post_init__(self) -> None:
        if not 0 <= self.start <= self.end <= 1:
            raise ValueError(f"Layer range [{self.start}, {self.end}) must satisfy 0 <= start <= end <= 1.")

    def contains(self, unit_id: str) -> bool:
        return self.start <= hash_point(self.salt, LAYER, unit_id) < self.end


@dataclass(frozen=True)
class ExperimentSpec:
    """What assignment needs to know of an experiment.

    ``traffic_share`` is the share of units enrolled; in a layer it applies to the units of the
    experiment's layer range, so the enrolled share is ``traffic_share * (end - start)``.
    """

    key: str
    salt: str
    traffic_share: float
    variants: tuple[VariantSpec, ...]
    layer: LayerSlot | None = None
    # Upper ends of the variants' consecutive ranges of [0, 1), computed once.
    bounds: tuple[float, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.salt:
            raise ValueError(f"Experiment {self.key!r} needs a non-empty salt.")
        traffic_share = float(self.traffic_share)
        if not 0 <= traffic_share <= 1:
            raise ValueError(f"Experiment {self.key!r} has traffic share {self.traffic_share}: it must be in [0, 1].")
        object.__setattr__(self, "traffic_share", traffic_share)
        object.__setattr__(self, "variants", tuple(self.variants))
        object.__setattr__(self, "bounds", variant_bounds(self.variants))


def variant_bounds(variants: Iterable[VariantSpec]) -> tuple[float, ...]:
    """Validate variants and return the upper ends of their ranges; the last one is exactly 1."""
    variants = tuple(variants)
    if not variants:
        raise ValueError("An experiment needs at least one variant.")
    keys = [variant.key for variant in variants]
    duplicates = sorted({key for key in keys if keys.count(key) > 1})
    if duplicates:
        raise ValueError(f"Duplicate variant keys: {', '.join(duplicates)}.")
    total = math.fsum(variant.weight for variant in variants)
    if abs(total - 1) > WEIGHT_TOLERANCE:
        raise ValueError(f"Variant weights sum to {total!r}, not 1.")
    cumulative = itertools.accumulate(variant.weight for variant in variants)
    # Rounding may push a partial sum a hair past 1 or leave the total a hair below it: capping the
    # bounds at 1 keeps them sorted for bisection, and the last one set to 1 leaves no point out.
    return (*(min(bound, 1.0) for bound in itertools.islice(cumulative, len(variants) - 1)), 1.0)


def variant_index(point: float, bounds: tuple[float, ...]) -> int:
    """The variant whose range holds ``point``; a zero-weight variant's empty range gets none."""
    return bisect_right(bounds, point)


def is_enrolled(unit_id: str, experiment: ExperimentSpec) -> bool:
    """Whether hashing puts a unit in the experiment: its layer range, then the traffic share."""
    if experiment.layer is not None and not experiment.layer.contains(unit_id):
        return False
    # Full traffic needs no hash: every point is below 1.
    return experiment.traffic_share == 1 or hash_point(experiment.salt, TRAFFIC, unit_id) < experiment.traffic_share


def assign(unit_id: str, experiment: ExperimentSpec, existing: str | None = None) -> str | None:
    """The unit's variant key, or None when it is not enrolled.

    ``existing`` is the variant recorded at the unit's first exposure: it is returned as it is,
    whatever the weights, traffic share or layer ranges are now, so exposed units never move.
    """
    if existing is not None:
        return existing
    if not is_enrolled(unit_id, experiment):
        return None
    return experiment.variants[variant_index(hash_point(experiment.salt, VARIANT, unit_id), experiment.bounds)].key


def check_layer(ranges: Mapping[str, tuple[float, float]]) -> None:
    """Raise ValueError unless the experiments' ranges lie in [0, 1] and do not overlap."""
    ordered = sorted(ranges.items(), key=lambda item: item[1])
    for key, (start, end) in ordered:
        if not 0 <= start <= end <= 1:
            raise ValueError(f"Experiment {key!r} has layer range [{start}, {end}): need 0 <= start <= end <= 1.")
    for (key, (_, end)), (next_key, (next_start, _)) in itertools.pairwise(ordered):
        if next_start < end:
            raise ValueError(f"Experiments {key!r} and {next_key!r} overlap in their layer.")


def experiment_in_layer(unit_id: str, layer_salt: str, ranges: Mapping[str, tuple[float, float]]) -> str | None:
    """Which experiment of a layer owns the unit's layer point, or None if no range holds it.

    ``ranges`` maps experiment keys to their [start, end) ranges; they must be disjoint, which is
    what makes the layer's experiments mutually exclusive.
    """
    check_layer(ranges)
    point = hash_point(layer_salt, LAYER, unit_id)
    for key, (start, end) in ranges.items():
        if start <= point < end:
            return key
    return None


def factorial_variants(factors: Mapping[str, Mapping[str, Weight]]) -> tuple[VariantSpec, ...]:
    """Every combination of the factors' levels, weighted by the product of the level weights.

    ``{"color": {"red": 0.5, "blue": 0.5}, "size": {"small": 0.3, "large": 0.7}}`` gives four
    variants keyed like ``color=red|size=large``, factors in the order given. Each factor's level
    weights must sum to 1, so the products do too.
    """
    if not factors:
        raise ValueError("A multivariate experiment needs at least one factor.")
    levels_per_factor = []
    for factor, levels in factors.items():
        for name in (factor, *levels):
            if not name or FACTOR_SEPARATOR in name or LEVEL_SEPARATOR in name:
                raise ValueError(
                    f"Factor or level name {name!r} must be non-empty and free of "
                    f"{FACTOR_SEPARATOR!r} and {LEVEL_SEPARATOR!r}."
                )
        # Validating each factor as a variant list names the factor whose weights are wrong.
        level_specs = tuple(VariantSpec(level, weight) for level, weight in levels.items())
        try:
            variant_bounds(level_specs)
        except ValueError as error:
            raise ValueError(f"Factor {factor!r}: {error}") from None
        levels_per_factor.append([(f"{factor}{LEVEL_SEPARATOR}{level.key}", level.weight) for level in level_specs])
    return tuple(
        VariantSpec(FACTOR_SEPARATOR.join(key for key, _ in combination), math.prod(w for _, w in combination))
        for combination in itertools.product(*levels_per_factor)
    )
