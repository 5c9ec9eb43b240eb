"""Two shop users and one anonymous visitor, each with events under several ids."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.test import override_settings

from promotions.tracking import buffer
from promotions.tracking.models import Visitor
from shop_demo import settings as shop_settings

ALICE_COOKIE = "a" * 32
ALICE_OTHER_COOKIE = "c" * 32  # never linked: her events there carry her user id only
ALICE_CUSTOMER = "C100"  # an imported customer id, stored as "ext:C100"
BOB_COOKIE = "b" * 32
ANONYMOUS_COOKIE = "d" * 32  # no Visitor row: never signed in


def event(visitor_id: str, user_id: int | None = None, **fields) -> dict:
    return {
        "event_type": "purchase",
        "visitor_id": visitor_id,
        "user_id": user_id,
        "item_id": "MUG1",
        "quantity": 2,
        "unit_price": Decimal("3.5000"),
        "context": {"page": "/shop/"},
        "occurred_at": datetime(2024, 5, 1, 12, 30, tzinfo=UTC),
        "idempotency_key": uuid.uuid4().hex,
        **fields,
    }


@pytest.fixture
def alice(django_user_model):
    user = django_user_model.objects.create_user("alice", "Alice@Example.com")  # no password: hashing is slow
    Visitor.objects.create(key=ALICE_COOKIE, user=user)
    Visitor.objects.create(key=Visitor.external_key(ALICE_CUSTOMER), kind=Visitor.Kind.EXTERNAL, user=user)
    buffer.insert(
        [
            event(ALICE_COOKIE, user.pk),
            event(ALICE_COOKIE, None, event_type="view"),
            event(Visitor.external_key(ALICE_CUSTOMER)),
            event(ALICE_OTHER_COOKIE, user.pk, event_type="search", item_id="", query="teapot", result_count=0),
        ]
    )
    return user


@pytest.fixture
def bob(django_user_model):
    user = django_user_model.objects.create_user("bob", "bob@example.com")
    Visitor.objects.create(key=BOB_COOKIE, user=user)
    buffer.insert([event(BOB_COOKIE, user.pk), event(BOB_COOKIE, None, event_type="view")])
    return user


@pytest.fixture
def anonymous(db) -> str:
    buffer.insert([event(ANONYMOUS_COOKIE, event_type="view")])
    return ANONYMOUS_COOKIE


@pytest.fixture
def redis_buffer(redis_url):
    """The real Redis event buffer, switched on for the test."""
    with override_settings(PROMOTIONS={**shop_settings.PROMOTIONS, "REDIS_URL": redis_url}):
        buffer._redis_down_until = 0.0
        yield buffer.redis_client()
