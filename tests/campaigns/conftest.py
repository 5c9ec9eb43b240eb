"""A small shop for campaigns: the serving tests' catalogue (three categories), customers with
purchases at known times, two promotions, and fresh serving caches."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.utils import timezone

from promotions.campaigns.models import Campaign
from promotions.registry import forget_all
from promotions.tracking.capture import time_ordered_key
from promotions.tracking.models import Event, Visitor
from tests.offers.conftest import make_promotion
from tests.serving.conftest import catalogue  # noqa: F401 - three categories of four products

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"
ALICE_COOKIE, BOB_COOKIE = "a" * 32, "b" * 32


@pytest.fixture(autouse=True)
def fresh(db):
    cache.clear()
    forget_all()
    yield
    forget_all()
    cache.clear()


def purchase(visitor_id: str, item_id: str, at, user=None, price: str = "10", quantity: int = 1, order: str = ""):
    return Event.objects.create(
        event_type="purchase",
        visitor_id=visitor_id,
        user=user,
        item_id=item_id,
        quantity=quantity,
        unit_price=Decimal(price),
        occurred_at=at,
        idempotency_key=time_ordered_key(),
        context={"order": order} if order else {},
    )


@pytest.fixture
def shop(catalogue):  # noqa: F811 - the imported fixture, requested
    """alice (user, lanterns 3 days ago), bob (user, candles 10 days ago), ext:C7 (imported customer,
    mugs 5 days ago), carol (user, bought 90 days ago: lapsed); two live promotions."""
    now = timezone.now()
    alice = User.objects.create_user("alice", email="alice@example.com")
    bob = User.objects.create_user("bob", email="bob@example.com")
    carol = User.objects.create_user("carol", email="carol@example.com")
    Visitor.objects.create(key=ALICE_COOKIE, user=alice)
    Visitor.objects.create(key=BOB_COOKIE, user=bob)
    purchase(ALICE_COOKIE, "L1", now - timedelta(days=3), alice)
    purchase(ALICE_COOKIE, "L2", now - timedelta(days=3), alice)
    purchase(BOB_COOKIE, "C1", now - timedelta(days=10))  # stored before bob signed in: found by his visitor
    purchase("ext:C7", "M1", now - timedelta(days=5))
    purchase("c" * 32, "L1", now - timedelta(days=90), carol)
    candles = make_promotion(name="Candles", message="20% off candles", value=Decimal(20), slots=["home"],
                             target_kind="category", target_values=["Candles"])  # fmt: skip
    everything = make_promotion(name="All", message="10% off everything", slots=["home"], priority=1)
    return {"alice": alice, "bob": bob, "carol": carol, "promotions": [candles, everything], "now": now}


def make_campaign(**fields) -> Campaign:
    values = {"name": "Spring", "segment": "recent", "days": 30, "holdout_share": Decimal(0)}
    values.update(fields)
    return Campaign.objects.create(**values)
