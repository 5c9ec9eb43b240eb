"""Behavior analytics over the event log, for the admin's analytics page.

Every figure covers the days ``start`` to ``end`` (both included) in the shop's current time
zone, and is computed by the database (one aggregate query per figure), so the page costs the
same on SQLite and PostgreSQL whatever the table's size.

The unit is the visitor id: a person who is signed in on two devices counts as two visitors
here (joining through ``Visitor`` to users would make every figure a join over the whole log).

A top product is flagged as an outlier when one purchase event (one order line) holds more than
half of its units and is over ``OUTLIER_FACTOR`` times the range's average purchase quantity: a
wholesale order ranks a product first without saying anything about shoppers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import Avg, Count, DecimalField, ExpressionWrapper, F, Max, Q, QuerySet, Sum
from django.db.models.functions import Lower, Trim, TruncDate
from django.utils import timezone

from ..products import get_adapter
from .models import Event, EventType

#: Money is summed with the unit price's precision, then shown rounded by the page.
MONEY = DecimalField(max_digits=20, decimal_places=4)
#: A single purchase over this share of a product's units, and ...
OUTLIER_SHARE = 0.5
#: ... over this many times the average purchase quantity, flags the product.
OUTLIER_FACTOR = 10


@dataclass(frozen=True)
class DailyActivity:
    day: date
    visitors: int
    events: int


@dataclass(frozen=True)
class Funnel:
    """Distinct visitors at each step; each step counts only visitors who reached the one before."""

    viewed: int
    added_to_cart: int
    purchased: int

    @property
    def view_to_cart(self) -> float | None:
        return ratio(self.added_to_cart, self.viewed)

    @property
    def cart_to_purchase(self) -> float | None:
        return ratio(self.purchased, self.added_to_cart)

    @property
    def overall(self) -> float | None:
        return ratio(self.purchased, self.viewed)


@dataclass(frozen=True)
class ClickThrough:
    impressions: int
    clicks: int

    @property
    def rate(self) -> float | None:
        return ratio(self.clicks, self.impressions)


@dataclass(frozen=True)
class ClickThroughRates:
    promotions: ClickThrough
    recommendations: ClickThrough


@dataclass(frozen=True)
class Revenue:
    revenue: Decimal
    visitors: int

    @property
    def arpu(self) -> Decimal | None:
        """Average revenue per visitor: purchases' revenue over every visitor seen in the range."""
        return self.revenue / self.visitors if self.visitors else None


@dataclass(frozen=True)
class ProductFigures:
    item_id: str
    #: None when the product no longer exists (events outlive products).
    title: str | None
    views: int
    revenue: Decimal
    #: Units purchased, and the units of its largest single purchase event.
    units: int = 0
    largest_purchase: int = 0
    #: Set when the largest purchase dwarfs the others (see the module's docstring).
    outlier: bool = False


@dataclass(frozen=True)
class TopProducts:
    by_views: list[ProductFigures]
    by_revenue: list[ProductFigures]


@dataclass(frozen=True)
class SearchTerm:
    query: str
    searches: int
    visitors: int


@dataclass(frozen=True)
class Report:
    """Every figure of the analytics page for one date range."""

    start: date
    end: date
    daily: list[DailyActivity]
    funnel: Funnel
    click_through: ClickThroughRates
    revenue: Revenue
    top_products: TopProducts
    searches_without_results: list[SearchTerm]


def ratio(part: int, whole: int) -> float | None:
    """``part / whole``, or None when there is nothing to divide by (shown as a dash, not 0%)."""
    return part / whole if whole else None


def day_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """The aware instants from ``start`` 00:00 to the midnight after ``end``, in the current time zone."""
    zone = timezone.get_current_timezone()
    return (
        timezone.make_aware(datetime.combine(start, time.min), zone),
        timezone.make_aware(datetime.combine(end + timedelta(days=1), time.min), zone),
    )


def events_between(start: date, end: date) -> QuerySet[Event]:
    lower, upper = day_bounds(start, end)
    return Event.objects.filter(occurred_at__gte=lower, occurred_at__lt=upper)


def daily_activity(start: date, end: date) -> list[DailyActivity]:
    """Distinct visitors and events per day, every day of the range listed (zero when quiet)."""
    rows = (
        events_between(start, end)
        .annotate(day=TruncDate("occurred_at", tzinfo=timezone.get_current_timezone()))
        .values("day")
        .annotate(visitors=Count("visitor_id", distinct=True), events=Count("id"))
        .order_by("day")
    )
    by_day = {row["day"]: row for row in rows}
    days = (start + timedelta(days=offset) for offset in range((end - start).days + 1))
    return [
        DailyActivity(day, by_day[day]["visitors"], by_day[day]["events"])
        if day in by_day
        else DailyActivity(day, 0, 0)
        for day in days
    ]


def funnel(start: date, end: date) -> Funnel:
    """View -> add to cart -> purchase, in any order within the range.

    A visitor who buys without a cart event (an imported order, a "buy now" button) is not a
    purchaser here, so every step is a subset of the one before and no rate exceeds 100%.
    """
    events = events_between(start, end)
    viewers = events.filter(event_type=EventType.VIEW).values("visitor_id")
    carters = events.filter(event_type=EventType.ADD_TO_CART, visitor_id__in=viewers).values("visitor_id")
    counts = events.aggregate(
        viewed=Count("visitor_id", distinct=True, filter=Q(event_type=EventType.VIEW)),
        added=Count("visitor_id", distinct=True, filter=Q(event_type=EventType.ADD_TO_CART, visitor_id__in=viewers)),
        purchased=Count("visitor_id", distinct=True, filter=Q(event_type=EventType.PURCHASE, visitor_id__in=carters)),
    )
    return Funnel(counts["viewed"], counts["added"], counts["purchased"])


def click_through_rates(start: date, end: date) -> ClickThroughRates:
    """Clicks over viewport impressions, for promotions and for recommendations."""
    types = [
        EventType.PROMOTION_IMPRESSION,
        EventType.PROMOTION_CLICK,
        EventType.RECOMMENDATION_IMPRESSION,
        EventType.RECOMMENDATION_CLICK,
    ]
    counts = events_between(start, end).aggregate(**{kind: Count("id", filter=Q(event_type=kind)) for kind in types})
    return ClickThroughRates(
        promotions=ClickThrough(counts[EventType.PROMOTION_IMPRESSION], counts[EventType.PROMOTION_CLICK]),
        recommendations=ClickThrough(
            counts[EventType.RECOMMENDATION_IMPRESSION], counts[EventType.RECOMMENDATION_CLICK]
        ),
    )


def _line_revenue() -> ExpressionWrapper:
    return ExpressionWrapper(F("quantity") * F("unit_price"), output_field=MONEY)


def revenue(start: date, end: date) -> Revenue:
    """Revenue of purchase events (quantity x unit price) and the visitors it is shared among."""
    totals = events_between(start, end).aggregate(
        revenue=Sum(_line_revenue(), filter=Q(event_type=EventType.PURCHASE), output_field=MONEY),
        visitors=Count("visitor_id", distinct=True),
    )
    return Revenue(totals["revenue"] or Decimal(0), totals["visitors"])


def _product_rows(start: date, end: date) -> QuerySet:
    return (
        events_between(start, end)
        .exclude(item_id="")
        .values("item_id")
        .annotate(
            views=Count("id", filter=Q(event_type=EventType.VIEW)),
            revenue=Sum(_line_revenue(), filter=Q(event_type=EventType.PURCHASE), output_field=MONEY),
            units=Sum("quantity", filter=Q(event_type=EventType.PURCHASE)),
            largest=Max("quantity", filter=Q(event_type=EventType.PURCHASE)),
        )
    )


def _is_outlier(units: int, largest: int, average: float | None) -> bool:
    return bool(units and average) and largest > OUTLIER_SHARE * units and largest > OUTLIER_FACTOR * average


def _with_titles(rows: list[dict], average: float | None) -> list[ProductFigures]:
    # One product query for both lists; ids of deleted products keep a None title.
    adapter = get_adapter()
    products = adapter.get_by_ids([row["item_id"] for row in rows])
    return [
        ProductFigures(
            item_id=row["item_id"],
            title=adapter.info(products[row["item_id"]]).title if row["item_id"] in products else None,
            views=row["views"],
            revenue=row["revenue"] or Decimal(0),
            units=row["units"] or 0,
            largest_purchase=row["largest"] or 0,
            outlier=_is_outlier(row["units"] or 0, row["largest"] or 0, average),
        )
        for row in rows
    ]


def top_products(start: date, end: date, limit: int = 10) -> TopProducts:
    """The most viewed products and the products that earned most, with their titles and outlier flags."""
    rows = _product_rows(start, end)
    by_views = list(rows.filter(views__gt=0).order_by("-views", "item_id")[:limit])
    by_revenue = list(rows.filter(revenue__gt=0).order_by("-revenue", "item_id")[:limit])
    average = (
        events_between(start, end).filter(event_type=EventType.PURCHASE).aggregate(average=Avg("quantity"))["average"]
    )
    figures = {figure.item_id: figure for figure in _with_titles(by_views + by_revenue, average)}
    return TopProducts(
        by_views=[figures[row["item_id"]] for row in by_views],
        by_revenue=[figures[row["item_id"]] for row in by_revenue],
    )


def searches_without_results(start: date, end: date, limit: int = 20) -> list[SearchTerm]:
    """Search terms that found nothing, case and surrounding spaces ignored, most frequent first."""
    rows = (
        events_between(start, end)
        .filter(event_type=EventType.SEARCH, result_count=0)
        .annotate(term=Lower(Trim("query")))
        .exclude(term="")
        .values("term")
        .annotate(searches=Count("id"), visitors=Count("visitor_id", distinct=True))
        .order_by("-searches", "term")[:limit]
    )
    return [SearchTerm(row["term"], row["searches"], row["visitors"]) for row in rows]


def report(start: date, end: date) -> Report:
    """Every figure of the analytics page."""
    return Report(
        start=start,
        end=end,
        daily=daily_activity(start, end),
        funnel=funnel(start, end),
        click_through=click_through_rates(start, end),
        revenue=revenue(start, end),
        top_products=top_products(start, end),
        searches_without_results=searches_without_results(start, end),
    )
