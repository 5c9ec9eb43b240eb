"""Category diversity for served lists: ``RECOMMENDATION_DIVERSITY`` applied with the shop's categories.

Serving (the live lists) and training (the precomputed lists) ask a model for
``DIVERSITY_POOL`` times as many items as they show and re-rank them with ``recommenders.diversity.mmr``
over the categories of the shop's product cards (``promotions.cards``: kept per process, so a warm
list runs no query), so a list follows the catalogue as it is, not as it was when the model was
trained. With the setting at 0 (the default) nothing changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from .cards import cards
from .conf import app_settings
from .recommenders.base import DIVERSITY_POOL
from .recommenders.diversity import mmr

Row = TypeVar("Row", bound=tuple)


def diversity() -> float:
    """The configured strength, 0 (off) to 1."""
    return float(app_settings.RECOMMENDATION_DIVERSITY or 0.0)


def pool_size(k: int) -> int:
    """How many items to ask a model for so that ``k`` remain after re-ranking."""
    return k * DIVERSITY_POOL if diversity() else k


def categories_of(item_ids: Sequence[str]) -> dict[str, str]:
    """Each known item's category, from the product cards the tags read too."""
    return {item_id: card.category for item_id, card in cards(item_ids).items()}


def diversify(rows: Sequence[Row], k: int) -> list[Row]:
    """The first ``k`` of ``rows`` (tuples starting with item id and score, best first), re-ranked
    by MMR over categories at the configured strength; unchanged (cut to ``k``) when it is 0."""
    strength = diversity()
    if not strength or len(rows) <= 1:
        return list(rows[:k])
    categories = categories_of([row[0] for row in rows])
    by_item = {row[0]: row for row in rows}
    chosen = mmr([(row[0], float(row[1])) for row in rows], categories, k, strength)
    return [by_item[item_id] for item_id in chosen]
