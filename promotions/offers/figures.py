"""Per-promotion figures from the event log: impressions, clicks, attributed conversions and revenue,
redemptions and discount spent; and the per-segment conversion statistics the ranking draws from.

The windows are ``PROMOTIONS["ATTRIBUTION_CLICK_DAYS"]`` and ``["ATTRIBUTION_EXPOSURE_DAYS"]``.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.core.cache import cache
from django.db.models import Count, Min, Q, Sum
from django.utils import timezone

from ..cards import cards
from ..conf import app_settings
from ..tracking.models import Event, EventType
from .attribution import CLICK, EXPOSURE, Credit, Purchase, Touch, attribute
from .models import Redemption

DAY = 24 * 3600
TOUCH_TYPES = {
    EventType.PROMOTION_CLICK: CLICK,
    EventType.PROMOTION_IMPRESSION: EXPOSURE,
    EventType.RECOMMENDATION_CLICK: CLICK,
    EventType.RECOMMENDATION_IMPRESSION: EXPOSURE,
}
#: Where ``update_promotion_stats`` leaves the ranking's statistics (read by serving.promotions).
STATS_CACHE_KEY = "promotions:promotion-stats"
STATS_CACHE_SECONDS = 3 * 24 * 3600


def windows() -> tuple[float, float]:
    return app_settings.ATTRIBUTION_CLICK_DAYS * DAY, app_settings.ATTRIBUTION_EXPOSURE_DAYS * DAY


def credits_between(since: datetime, until: datetime) -> list[Credit]:
    """Every purchase in [since, until) with the promotion and recommendation it is credited to."""
    click_window, exposure_window = windows()
    purchases = [
        Purchase(
            row["visitor_id"],
            row["occurred_at"].timestamp(),
            row["item_id"],
            _revenue(row),
            row["idempotency_key"],
            _order(row["context"]),
        )
        for row in Event.objects.filter(
            event_type=EventType.PURCHASE, occurred_at__gte=since, occurred_at__lt=until
        ).values("visitor_id", "occurred_at", "item_id", "unit_price", "quantity", "idempotency_key", "context")
    ]
    # The promotion each order really redeemed (the largest discount when several) is its credit.
    redeemed = dict(
        Redemption.objects.filter(order_ref__in={p.order for p in purchases if p.order}, refunded_at__isnull=True)
        .order_by("discount", "pk")
        .values_list("order_ref", "promotion_id")
    )
    visitors = {p.visitor for p in purchases}
    touch_rows = Event.objects.filter(
        event_type__in=TOUCH_TYPES,
        visitor_id__in=visitors,
        occurred_at__gte=since - timedelta(seconds=max(click_window, exposure_window)),
        occurred_at__lt=until,
    ).values("visitor_id", "occurred_at", "event_type", "promotion_id", "item_id")
    touches = [
        Touch(
            row["visitor_id"],
            row["occurred_at"].timestamp(),
            TOUCH_TYPES[row["event_type"]],
            row["promotion_id"] if row["event_type"].startswith("promotion_") else None,
            row["item_id"] if row["event_type"].startswith("recommendation_") else None,
        )
        for row in touch_rows.iterator(2000)
    ]
    return attribute(touches, purchases, click_window, exposure_window, redeemed)


def _order(context: Any) -> str:
    """The order id a purchase event carries (``order_placed`` puts it in the context)."""
    order = context.get("order") if isinstance(context, dict) else None
    return str(order) if order is not None else ""


def _revenue(row: dict[str, Any]) -> float:
    return float((row["unit_price"] or Decimal(0)) * (row["quantity"] or 1))


@dataclass
class PromotionFigures:
    impressions: int = 0
    clicks: int = 0
    conversions: int = 0
    revenue: float = 0.0
    redemptions: int = 0
    discount_spent: Decimal = Decimal(0)
    visitors: int = 0
    converted_visitors: set[str] = field(default_factory=set)

    @property
    def click_rate(self) -> float | None:
        return self.clicks / self.impressions if self.impressions else None

    @property
    def conversion_rate(self) -> float | None:
        return len(self.converted_visitors) / self.visitors if self.visitors else None


def promotion_figures(since: datetime | None = None, until: datetime | None = None) -> dict[int, PromotionFigures]:
    """Figures per promotion over [since, until) (default: the last 30 days)."""
    until = until or timezone.now()
    since = since or until - timedelta(days=30)
    figures: dict[int, PromotionFigures] = defaultdict(PromotionFigures)
    counts = (
        Event.objects.filter(
            event_type__in=[EventType.PROMOTION_IMPRESSION, EventType.PROMOTION_CLICK],
            promotion_id__isnull=False,
            occurred_at__gte=since,
            occurred_at__lt=until,
        )
        .values("promotion_id")
        .annotate(
            impressions=Count("id", filter=Q(event_type=EventType.PROMOTION_IMPRESSION)),
            clicks=Count("id", filter=Q(event_type=EventType.PROMOTION_CLICK)),
            visitors=Count("visitor_id", filter=Q(event_type=EventType.PROMOTION_IMPRESSION), distinct=True),
        )
    )
    for row in counts:
        entry = figures[row["promotion_id"]]
        entry.impressions, entry.clicks, entry.visitors = row["impressions"], row["clicks"], row["visitors"]
    for credit in credits_between(since, until):
        if credit.promotion_id is not None:
            entry = figures[credit.promotion_id]
            entry.conversions += 1
            entry.revenue += credit.purchase.revenue
            entry.converted_visitors.add(credit.purchase.visitor)
    redemptions = (
        Redemption.objects.filter(redeemed_at__gte=since, redeemed_at__lt=until, refunded_at__isnull=True)
        .values("promotion_id")
        .annotate(n=Count("id"), spent=Sum("discount"))
    )
    for row in redemptions:
        figures[row["promotion_id"]].redemptions = row["n"]
        figures[row["promotion_id"]].discount_spent = row["spent"] or Decimal(0)
    return dict(figures)


def _device(context: Any) -> str:
    device = context.get("device", "desktop") if isinstance(context, dict) else "desktop"
    return "mobile" if device in ("mobile", "tablet") else "desktop"


def compute_promotion_stats(days: int = 30, now: datetime | None = None) -> dict[str, Any]:
    """Per promotion: ``{"overall": [visitors, converted, revenue, revenue²], "segments": {key: [...]}}``.

    A visitor counts once per promotion (their first impression in the window) and converts when a
    purchase is credited to that promotion; their segment is new/returning (an event 30 minutes
    before that impression) x device class x their most viewed category, as serving computes it.
    """
    now = now or timezone.now()
    since = now - timedelta(days=days)
    first_seen: dict[tuple[int, str], tuple[datetime, str]] = {}
    for row in (
        Event.objects.filter(
            event_type=EventType.PROMOTION_IMPRESSION, promotion_id__isnull=False, occurred_at__gte=since
        )
        .order_by("occurred_at")
        .values("promotion_id", "visitor_id", "occurred_at", "context")
        .iterator(2000)
    ):
        first_seen.setdefault((row["promotion_id"], row["visitor_id"]), (row["occurred_at"], _device(row["context"])))
    visitors = {visitor for _promotion, visitor in first_seen}
    earliest = dict(
        Event.objects.filter(visitor_id__in=visitors)
        .values("visitor_id")
        .annotate(first=Min("occurred_at"))
        .values_list("visitor_id", "first")
    )
    viewed: dict[str, Counter] = defaultdict(Counter)
    view_rows = list(
        Event.objects.filter(event_type=EventType.VIEW, visitor_id__in=visitors, occurred_at__gte=since).values_list(
            "visitor_id", "item_id"
        )
    )
    categories = {item: card.category for item, card in cards({item for _v, item in view_rows}).items()}
    for visitor, item in view_rows:
        if categories.get(item):
            viewed[visitor][categories[item]] += 1
    revenue: dict[tuple[int, str], float] = defaultdict(float)
    for credit in credits_between(since, now):
        if credit.promotion_id is not None:
            revenue[(credit.promotion_id, credit.purchase.visitor)] += credit.purchase.revenue
    stats: dict[str, Any] = {}
    for (promotion_id, visitor), (seen_at, device) in first_seen.items():
        returning = "returning" if earliest.get(visitor, seen_at) < seen_at - timedelta(minutes=30) else "new"
        top = viewed[visitor].most_common(1)[0][0] if viewed[visitor] else ""
        segment = f"{returning}|{device}|{top}"
        value = revenue.get((promotion_id, visitor), 0.0)
        entry = stats.setdefault(str(promotion_id), {"overall": [0, 0, 0.0, 0.0], "segments": {}})
        for row in (entry["overall"], entry["segments"].setdefault(segment, [0, 0, 0.0, 0.0])):
            row[0] += 1
            row[1] += 1 if (promotion_id, visitor) in revenue else 0
            row[2] += value
            row[3] += value * value
    return stats


def update_promotion_stats(days: int = 30) -> dict[str, Any]:
    """Recompute the ranking's statistics into the shared cache, and return them."""
    stats = compute_promotion_stats(days)
    cache.set(STATS_CACHE_KEY, stats, STATS_CACHE_SECONDS)
    return stats
