"""Last-touch attribution of purchases to promotions and recommendations: pure functions.

A purchase is credited to the promotion whose click came last within ``click_window`` before it,
else to the promotion whose exposure came last within ``exposure_window``; and, separately, to a
recommendation of the same product clicked (else shown) within the same windows. Times are epoch
seconds; only touches of the same visitor count. A purchase whose order redeemed a promotion is
credited to that promotion (``via="redemption"``): the discount actually given wins over touches.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

CLICK = "click"
EXPOSURE = "exposure"
REDEMPTION = "redemption"


@dataclass(frozen=True)
class Touch:
    visitor: str
    at: float
    kind: str  # CLICK or EXPOSURE
    promotion_id: int | None = None
    item_id: str | None = None  # a recommended product


@dataclass(frozen=True)
class Purchase:
    visitor: str
    at: float
    item_id: str
    revenue: float
    key: str = ""
    order: str = ""


@dataclass(frozen=True)
class Credit:
    purchase: Purchase
    promotion_id: int | None
    promotion_via: str | None
    recommended_via: str | None


def _last(times: list[float], touches: list[Touch], at: float, window: float) -> Touch | None:
    index = bisect_right(times, at) - 1
    if index >= 0 and at - times[index] <= window:
        return touches[index]
    return None


def attribute(
    touches: Iterable[Touch],
    purchases: Iterable[Purchase],
    click_window: float,
    exposure_window: float,
    redeemed: Mapping[str, int] | None = None,
) -> list[Credit]:
    """One credit per purchase (promotion and recommendation may both be None); ``redeemed`` maps
    an order to the promotion it redeemed."""
    redeemed = redeemed or {}
    lanes: dict[tuple, list[Touch]] = defaultdict(list)
    for touch in touches:
        if touch.promotion_id is not None:
            lanes[(touch.visitor, "promotion", touch.kind, None)].append(touch)
        if touch.item_id:
            lanes[(touch.visitor, "item", touch.kind, touch.item_id)].append(touch)
    indexed = {}
    for key, lane in lanes.items():
        lane.sort(key=lambda t: t.at)
        indexed[key] = ([t.at for t in lane], lane)

    def last(key: tuple, at: float, window: float) -> Touch | None:
        found = indexed.get(key)
        return _last(found[0], found[1], at, window) if found else None

    credits = []
    for purchase in purchases:
        promotion, via = None, None
        if purchase.order and purchase.order in redeemed:
            promotion, via = redeemed[purchase.order], REDEMPTION
        click = last((purchase.visitor, "promotion", CLICK, None), purchase.at, click_window)
        seen = None if click else last((purchase.visitor, "promotion", EXPOSURE, None), purchase.at, exposure_window)
        if (click or seen) and via is None:
            promotion, via = (click or seen).promotion_id, CLICK if click else EXPOSURE
        recommended = None
        if last((purchase.visitor, "item", CLICK, purchase.item_id), purchase.at, click_window):
            recommended = CLICK
        elif last((purchase.visitor, "item", EXPOSURE, purchase.item_id), purchase.at, exposure_window):
            recommended = EXPOSURE
        credits.append(Credit(purchase, promotion, via, recommended))
    return credits
