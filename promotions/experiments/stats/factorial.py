"""Multivariate (full-factorial) experiments typed as text: factors and levels in, variants out.

One factor per line, its levels with their weights in percent (they need not be whole numbers;
leave them all out for an equal split)::

    model: item_knn=50, hybrid=50
    template: cards=33.3, list=33.3, grid=33.4

``assignment.factorial_variants`` makes every combination of levels, weighted by the product of
the level weights. Each combination becomes a variant whose configuration maps every factor to
its level (``{"model": "hybrid", "template": "list"}``), so the keys the slots and templates
already read (``model``, ``template``, ``strategy``...) can be factors themselves. The control is
the combination of every factor's first level. Variant weights are stored with four decimals of
a share (0.01 %); products that need more are rounded by the largest-remainder method, so they
still sum to exactly 100 %, and the largest change is reported.

Pure Python: the admin form is the thin layer over it.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from fractions import Fraction

from .assignment import FACTOR_SEPARATOR, LEVEL_SEPARATOR, factorial_variants

# Names become parts of the variant key (a slug: letters, digits, "-" and "_"), joined by "-" and
# "--": without "-" in the names, the key reads back unambiguously.
NAME = re.compile(r"[A-Za-z0-9_]+")
KEY_LEVEL_JOIN = "-"
KEY_FACTOR_JOIN = "--"
#: The longest variant key the model stores.
MAX_KEY_LENGTH = 64
#: More combinations than this is rarely an experiment any shop has the traffic for.
MAX_VARIANTS = 64
#: Decimals of a share that a variant weight holds (``Variant.weight``).
WEIGHT_PLACES = 4
HUNDRED = Fraction(100)


@dataclass(frozen=True)
class FactorialVariant:
    key: str
    name: str
    weight: Decimal
    is_control: bool
    levels: dict[str, str]


@dataclass(frozen=True)
class FactorialDesign:
    variants: list[FactorialVariant]
    #: The largest difference between a stored weight and its exact product (a share).
    rounding: float


def _weight(text: str, where: str) -> Fraction:
    try:
        percent = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"{where}: the weight {text!r} is not a number.") from None
    if not percent.is_finite() or percent < 0:
        raise ValueError(f"{where}: the weight {text!r} must be a number of percent >= 0.")
    return Fraction(percent) / HUNDRED


def _levels(text: str, where: str) -> dict[str, Fraction | None]:
    levels: dict[str, Fraction | None] = {}
    for item in text.split(","):
        name, equals, weight = (part.strip() for part in item.partition("="))
        if not NAME.fullmatch(name):
            raise ValueError(f"{where}: the level {name!r} must be letters, digits or underscores.")
        if name in levels:
            raise ValueError(f"{where}: the level {name!r} appears twice.")
        levels[name] = _weight(weight, f"{where}, level {name!r}") if equals else None
    return levels


def parse_factors(text: str) -> dict[str, dict[str, Fraction]]:
    """``factor: level=weight, ...`` lines into {factor: {level: share}}; ValueError says which line is wrong."""
    factors: dict[str, dict[str, Fraction]] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"Line {number}"
        factor, colon, rest = (part.strip() for part in line.partition(":"))
        if not colon or not rest:
            raise ValueError(f"{where}: write it as 'factor: level=weight, level=weight'.")
        if not NAME.fullmatch(factor):
            raise ValueError(f"{where}: the factor {factor!r} must be letters, digits or underscores.")
        if factor in factors:
            raise ValueError(f"{where}: the factor {factor!r} appears twice.")
        levels = _levels(rest, where)
        if len(levels) < 2:
            raise ValueError(f"{where}: the factor {factor!r} needs at least two levels.")
        given = [weight for weight in levels.values() if weight is not None]
        if not given:
            levels = dict.fromkeys(levels, Fraction(1, len(levels)))
        elif len(given) < len(levels):
            raise ValueError(f"{where}: give a weight to every level of {factor!r}, or to none (an equal split).")
        elif sum(given) != 1:
            total = float(sum(given) * HUNDRED)
            raise ValueError(f"{where}: the weights of {factor!r} sum to {total:g}%, not 100%.")
        factors[factor] = levels
    if not factors:
        raise ValueError("Give at least one factor: 'factor: level=weight, level=weight'.")
    return factors


def _round_shares(shares: list[float], places: int) -> list[int]:
    """Shares as whole units of 10**-places summing to exactly 10**places (largest remainder)."""
    scale = 10**places
    scaled = [share * scale for share in shares]
    units = [math.floor(value) for value in scaled]
    remainders = sorted(range(len(scaled)), key=lambda index: units[index] - scaled[index])
    for index in remainders[: scale - sum(units)]:
        units[index] += 1
    return units


def factorial_design(factors: dict[str, dict[str, Fraction]], places: int = WEIGHT_PLACES) -> FactorialDesign:
    """The full-factorial variants of ``factors`` (from ``parse_factors``), weights rounded to ``places``."""
    specs = factorial_variants(factors)
    if len(specs) > MAX_VARIANTS:
        raise ValueError(f"These factors make {len(specs)} combinations; at most {MAX_VARIANTS} are allowed.")
    units = _round_shares([spec.weight for spec in specs], places)
    first = {factor: next(iter(levels)) for factor, levels in factors.items()}
    variants = []
    for spec, weight_units in zip(specs, units, strict=True):
        levels = dict(part.split(LEVEL_SEPARATOR, 1) for part in spec.key.split(FACTOR_SEPARATOR))
        key = KEY_FACTOR_JOIN.join(f"{factor}{KEY_LEVEL_JOIN}{level}" for factor, level in levels.items())
        if len(key) > MAX_KEY_LENGTH:
            raise ValueError(f"The variant key {key!r} is longer than {MAX_KEY_LENGTH} characters: use shorter names.")
        weight = Decimal(weight_units).scaleb(-places)
        variants.append(FactorialVariant(key, spec.key, weight, levels == first, levels))
    rounding = max(abs(float(variant.weight) - spec.weight) for variant, spec in zip(variants, specs, strict=True))
    return FactorialDesign(variants, rounding)
