"""One recommended product as every serving module passes it around (its own module, so
recommendations and merchandising can both use it without importing each other)."""

from __future__ import annotations

from typing import NamedTuple

from ..cards import ProductCard
from ..recommenders import Reason

#: Where a pick comes from: the model scored this visitor, or the list every visitor gets.
MODEL, TRENDING = "model", "trending"


class Pick(NamedTuple):
    """One recommended product, with why and where it came from (a named tuple: a page builds
    dozens of them, and a tuple is built several times faster than a frozen dataclass)."""

    card: ProductCard
    score: float
    #: Why, as data (``promotions.serving.reasons`` words it in the page's language); None: no reason.
    reason: Reason | None = None
    source: str = MODEL
