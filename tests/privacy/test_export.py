"""One person is found from any of their ids, and the export holds everything about them, as valid JSON."""

from __future__ import annotations

import json

import pytest
from django.core.cache import cache

from promotions.tracking import privacy
from promotions.tracking.models import Event
from promotions.tracking.privacy import PersonNotFound, export_person, find_person

from .conftest import ALICE_COOKIE, ALICE_CUSTOMER, ALICE_OTHER_COOKIE, ANONYMOUS_COOKIE, BOB_COOKIE

pytestmark = pytest.mark.django_db
ALICE_IDS = (ALICE_COOKIE, "ext:" + ALICE_CUSTOMER)


@pytest.mark.parametrize(
    "selector",
    [
        {"user": "USER"},
        {"email": "alice@EXAMPLE.com"},
        {"visitor": ALICE_COOKIE},
        {"visitor": ALICE_CUSTOMER},
        {"visitor": "ext:" + ALICE_CUSTOMER},
    ],
)
def test_one_person_from_any_of_their_ids(alice, bob, selector):
    if selector.get("user") == "USER":
        selector = {"user": alice.pk}
    person = find_person(**selector)
    assert person.user == alice
    assert person.visitor_ids == ALICE_IDS


def test_anonymous_visitor_without_a_visitor_row_is_found_by_their_events(anonymous):
    person = find_person(visitor=anonymous)
    assert (person.user, person.visitor_ids) == (None, (ANONYMOUS_COOKIE,))


@pytest.mark.parametrize(
    ("selector", "message"),
    [
        ({}, "exactly one"),
        ({"user": 1, "email": "a@b.c"}, "exactly one"),
        ({"user": "abc"}, "must be a number"),
        ({"user": 99999}, "no user with id 99999"),
        ({"email": "nobody@example.com"}, "no user with the e-mail"),
        ({"visitor": "f" * 32}, "no visitor or customer"),
    ],
)
def test_unknown_or_badly_named_person_is_refused(alice, selector, message):
    with pytest.raises(PersonNotFound, match=message):
        find_person(**selector)


def test_an_e_mail_address_shared_by_two_users_is_ambiguous(alice, django_user_model):
    other = django_user_model.objects.create_user("alice2", "ALICE@example.com")
    with pytest.raises(PersonNotFound, match=f"Several users .*ids {alice.pk}, {other.pk}"):
        find_person(email="alice@example.com")


def test_export_covers_every_table_holding_their_data(alice, bob):
    data = json.loads(json.dumps(export_person(find_person(user=alice.pk))))
    assert {"format", "version", "exported_at", "user", "identities", "sections"} <= data.keys()
    assert data["user"] == {"id": alice.pk, "username": "alice", "email": "Alice@example.com"}
    assert data["identities"] == list(ALICE_IDS)
    assert {"events", "buffered_events", "visitors", "cache"} <= data["sections"].keys()
    events = data["sections"]["events"]
    # Under her cookie, under her imported customer id, and by her user on an unlinked cookie.
    assert sorted(e["visitor_id"] for e in events) == sorted([*ALICE_IDS, ALICE_COOKIE, ALICE_OTHER_COOKIE])
    assert len(events) == Event.objects.exclude(visitor_id=BOB_COOKIE).count()
    assert {v["key"] for v in data["sections"]["visitors"]} == set(ALICE_IDS)
    assert data["sections"]["buffered_events"] == [] and data["sections"]["cache"] == {}


def test_exported_events_have_every_field_in_json_types(alice):
    events = export_person(find_person(user=alice.pk))["sections"]["events"]
    purchase = next(e for e in events if e["visitor_id"] == ALICE_COOKIE and e["event_type"] == "purchase")
    assert set(purchase) == {field.attname for field in Event._meta.concrete_fields}
    assert purchase["occurred_at"] == "2024-05-01T12:30:00+00:00"
    assert (purchase["unit_price"], purchase["quantity"], purchase["user_id"]) == ("3.5000", 2, alice.pk)
    assert purchase["context"] == {"page": "/shop/"}


def test_export_includes_their_cached_values(alice, bob, settings):
    privacy.register_person_cache_key("test-recs")
    cache.set(privacy.visitor_cache_key(ALICE_COOKIE, "test-recs"), ["MUG1", "TEA1"])
    cache.set(privacy.user_cache_key(alice.pk, "test-recs"), {"at": "now"})
    cache.set(privacy.visitor_cache_key(BOB_COOKIE, "test-recs"), ["GNM1"])
    try:
        exported = export_person(find_person(user=alice.pk))["sections"]["cache"]
    finally:
        cache.clear()
        privacy._cache_names.pop("test-recs", None)
    assert exported == {
        f"promotions:visitor:{ALICE_COOKIE}:test-recs": ["MUG1", "TEA1"],
        f"promotions:user:{alice.pk}:test-recs": {"at": "now"},
    }
