"""Small hand-made shops for the training tests: two clusters of items, a dozen people, a few days."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.utils import timezone

from promotions.tracking.models import Event
from promotions.training import versions
from shop_demo.models import Category, Product

ITEMS = {"lights": ["L1", "L2", "L3", "L4"], "mugs": ["M1", "M2", "M3", "M4"]}


@pytest.fixture(autouse=True)
def isolated(settings, tmp_path, db):
    """Artifacts in a temporary media folder, an empty cache and no model loaded from another test."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    cache.clear()
    versions._loaded = None
    yield
    versions._loaded = None
    cache.clear()


def add_event(
    visitor_id: str, item_id: str, when, event_type: str = "view", user=None, quantity=None, **fields
) -> Event:
    """An event in the log; ``fields``: other Event fields (``rating``, ``dwell_seconds``)."""
    return Event.objects.create(
        event_type=event_type,
        visitor_id=visitor_id,
        user=user,
        item_id=item_id,
        quantity=quantity,
        occurred_at=when,
        idempotency_key=uuid.uuid4().hex,
        **fields,
    )


@pytest.fixture
def catalogue(db):
    for name, stock_codes in ITEMS.items():
        category = Category.objects.create(name=name.title(), slug=name)
        for code in stock_codes:
            Product.objects.create(stock_code=code, title=f"{name} {code}", category=category, price=Decimal("2.50"))


@pytest.fixture
def shop(catalogue):
    """12 visitors, each touching three items of one category over the last nine days (newest last)."""
    start = timezone.now() - timedelta(days=9)
    for person in range(12):
        items = ITEMS["lights" if person % 2 else "mugs"]
        for step in range(3):
            item = items[(person // 2 + step) % 4]
            when = start + timedelta(days=3 * step, hours=person)
            add_event(f"v{person}", item, when, "purchase" if step == 2 else "view", quantity=1)
    return start
