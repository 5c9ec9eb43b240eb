"""``{% bought_together %}``: products bought with this product, or with what is in the cart.

From the stored associations (``promotions.offers.together``); the same for every visitor, so it
needs no consent. Unavailable products are left out; a failure gives an empty list and a log line.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..cards import cards
from ..fallbacks import log_fallback
from ..offers import together
from ..recommenders import Reason
from .picks import TRENDING, Pick

#: Their reason (worded by ``serving.reasons``): "Often bought together".
TOGETHER = Reason("bought_together")

HEADROOM = 10


def bought_together_for(item_ids: Iterable[str], k: int) -> list[Pick]:
    """Up to ``k`` products most often bought with ``item_ids``."""
    try:
        ranked = together.companions(item_ids, k + HEADROOM)
        found = cards(item for item, _ in ranked)
        picks = [
            Pick(found[item], score, TOGETHER, TRENDING)
            for item, score in ranked
            if item in found and found[item].available
        ]
        return picks[:k]
    except Exception:
        log_fallback("bought_together_unavailable")
        return []
