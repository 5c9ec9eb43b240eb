"""A hand-built event log for 1 to 3 June 2024 (London summer time, UTC+1), with events just outside.

The figures it must give were worked out by hand; the tests state them next to their reasons.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from promotions.tracking.models import Event
from shop_demo.models import Product

LONDON = ZoneInfo("Europe/London")
START, END = date(2024, 6, 1), date(2024, 6, 3)


def event(event_type: str, visitor: str, local_time: str, **fields) -> Event:
    """An event at a London wall-clock time ("2024-06-01 10:00")."""
    when = datetime.fromisoformat(local_time).replace(tzinfo=LONDON)
    return Event(
        event_type=event_type, visitor_id=visitor, occurred_at=when, idempotency_key=uuid.uuid4().hex, **fields
    )


def purchase(visitor: str, local_time: str, item: str, quantity: int, price: str) -> Event:
    return event("purchase", visitor, local_time, item_id=item, quantity=quantity, unit_price=Decimal(price))


def repeat(times: int, *args, **fields) -> list[Event]:
    return [event(*args, **fields) for _ in range(times)]


@pytest.fixture
def products(db) -> dict[str, Product]:
    return {
        "P1": Product.objects.create(stock_code="P1", title="Red spotty mug", price=Decimal("5.00")),
        "P2": Product.objects.create(stock_code="P2", title="Blue teapot", price=Decimal("4.00")),
    }


@pytest.fixture
def event_log(products) -> None:
    day1 = [  # visitors A, E; 8 events
        event("view", "A", "2024-06-01 10:00", item_id="P1"),
        event("add_to_cart", "A", "2024-06-01 10:05", item_id="P1"),
        purchase("A", "2024-06-01 10:10", "P1", 2, "5.00"),
        purchase("A", "2024-06-01 10:11", "P2", 1, "4.00"),
        *repeat(2, "promotion_impression", "A", "2024-06-01 10:00", promotion_id=1),
        event("promotion_click", "A", "2024-06-01 10:01", promotion_id=1),
        event("search", "E", "2024-06-01 11:00", query="Unicorn ", result_count=0),
    ]
    day2 = [  # visitors B, D, E; 16 events
        event("view", "B", "2024-06-02 09:00", item_id="P1"),
        event("view", "B", "2024-06-02 09:01", item_id="P2"),
        event("add_to_cart", "B", "2024-06-02 09:02", item_id="P2"),
        *repeat(2, "promotion_impression", "B", "2024-06-02 09:00", promotion_id=1),
        *repeat(5, "recommendation_impression", "B", "2024-06-02 09:00"),
        *repeat(2, "recommendation_click", "B", "2024-06-02 09:03"),
        # D buys a product since deleted, and fills a cart, without viewing anything: outside the funnel.
        purchase("D", "2024-06-02 12:00", "GONE", 1, "7.50"),
        event("add_to_cart", "D", "2024-06-02 12:01", item_id="P1"),
        event("search", "E", "2024-06-02 13:00", query="unicorn", result_count=0),
        event("search", "E", "2024-06-02 13:01", query="lamp", result_count=3),
    ]
    day3 = [  # visitors F, C; 4 events, the last at 23:30 London time (22:30 UTC)
        event("search", "F", "2024-06-03 08:00", query="UNICORN", result_count=0),
        event("search", "F", "2024-06-03 08:01", query="zebra", result_count=0),
        event("view", "C", "2024-06-03 22:00", item_id="P2"),
        event("view", "C", "2024-06-03 23:30", item_id="P2"),
    ]
    outside = [  # before 1 June and after 3 June in London, though 4 June 00:30 is still 3 June in UTC
        event("view", "G", "2024-05-31 23:30", item_id="P1"),
        purchase("G", "2024-05-31 23:40", "P1", 10, "100.00"),
        event("view", "H", "2024-06-04 00:30", item_id="P1"),
        event("promotion_click", "H", "2024-06-04 00:31", promotion_id=1),
    ]
    Event.objects.bulk_create([*day1, *day2, *day3, *outside])
