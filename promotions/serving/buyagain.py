"""``{% buy_again %}``: the visitor's own purchases, the ones due again first.

Only for a customer we may know: signed in, or a visitor who consented to tracking. Unavailable
products are left out; any failure gives an empty list and a log line, never an error page.
"""

from __future__ import annotations

from django.http import HttpRequest

from ..cards import cards
from ..fallbacks import log_fallback
from ..offers import replenish
from ..offers.service import Shopper
from ..recommenders import Reason
from .picks import MODEL, Pick

#: Items asked beyond ``k``, so that unavailable products still leave ``k``.
HEADROOM = 10


def _reason(cycle: float | None) -> Reason:
    """Bought before; or bought every ``days`` days (worded by ``serving.reasons``)."""
    if cycle is None:
        return Reason("bought_before")
    return Reason("buy_again", days=max(round(cycle), 1))


def buy_again_for(request: HttpRequest, k: int) -> list[Pick]:
    """Up to ``k`` of the visitor's own products, the most likely to be bought again first."""
    try:
        shopper = Shopper.from_request(request)
        visitor_id = shopper.visitor_id if shopper.tracked else None
        if visitor_id is None and shopper.user_id is None:
            return []
        ranked = replenish.bought_before(visitor_id, shopper.user_id, k + HEADROOM)
        found = cards(r.item_id for r, _ in ranked)
        picks = [
            Pick(found[r.item_id], r.score, _reason(cycle), MODEL)
            for r, cycle in ranked
            if r.item_id in found and found[r.item_id].available
        ]
        return picks[:k]
    except Exception:
        log_fallback("buy_again_unavailable", request=request)
        return []
