"""Erasure deletes exactly one person's data, wherever it is held, and nothing of anyone else's."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.test import override_settings

from promotions.conf import app_settings
from promotions.tasks import flush_events
from promotions.tracking import buffer, privacy
from promotions.tracking.models import Event, Visitor
from promotions.tracking.privacy import BufferUnavailable, erase_person, export_person, find_person
from shop_demo import settings as shop_settings

from .conftest import ALICE_COOKIE, ANONYMOUS_COOKIE, BOB_COOKIE, event

pytestmark = pytest.mark.django_db


def snapshot(user) -> tuple[list, list]:
    """Someone's events and visitor rows, to prove an erasure left them as they were."""
    person = find_person(user=user.pk)
    return list(person.events().order_by("pk").values()), list(person.visitors().order_by("pk").values())


def test_erase_deletes_their_events_and_identities_only(alice, bob, anonymous):
    bob_before = snapshot(bob)
    counts = erase_person(find_person(email="alice@example.com"))
    assert counts == {
        "events": 4,
        "buffered_events": 0,
        "visitors": 2,
        "dead_letters": 0,
        "cache": 0,
        "assignments": 0,
        "redemptions": 0,
        "models": 0,
        "campaigns": 0,
        "api_keys": 0,
    }
    person = find_person(user=alice.pk)
    assert not person.events().exists() and not person.visitors().exists()
    assert person.visitor_ids == ()
    assert snapshot(bob) == bob_before
    assert Event.objects.filter(visitor_id=anonymous).count() == 1
    # The shop's user account is kept.
    assert get_user_model().objects.filter(pk=alice.pk).exists()


def test_erase_an_anonymous_visitor(alice, anonymous):
    assert erase_person(find_person(visitor=anonymous))["events"] == 1
    assert not Event.objects.filter(visitor_id=ANONYMOUS_COOKIE).exists()
    assert Event.objects.filter(user=alice).exists()


def test_erase_twice_erases_nothing_more(alice):
    person = find_person(user=alice.pk)
    erase_person(person)
    assert set(erase_person(person).values()) == {0}


def test_erase_removes_their_events_waiting_in_the_redis_buffer(redis_buffer, alice, bob):
    mine = [event(ALICE_COOKIE, alice.pk), event("e" * 32, alice.pk), event(ALICE_COOKIE)]
    theirs = [event(BOB_COOKIE, bob.pk), event(BOB_COOKIE)]
    buffer.write([mine[0], theirs[0], mine[1], theirs[1], mine[2]])
    stream = app_settings.EVENT_STREAM
    buffer._ensure_group(redis_buffer, stream)
    # A flush worker read two entries and died: they are pending, not yet in the database.
    redis_buffer.xreadgroup(buffer.GROUP, "dead-worker", {stream: ">"}, count=2)
    person = find_person(user=alice.pk)
    assert len(export_person(person)["sections"]["buffered_events"]) == 3

    assert erase_person(person)["buffered_events"] == 3
    assert buffer.backlog() == 2
    assert buffer.flush(claim_idle_ms=0) == 2
    flushed = set(Event.objects.values_list("idempotency_key", flat=True))
    assert {e["idempotency_key"] for e in theirs} <= flushed
    assert not {e["idempotency_key"] for e in mine} & flushed
    assert not find_person(user=alice.pk).events().exists()
    assert buffer.backlog() == 0 and flush_events() == 0


def test_an_anonymous_visitor_whose_events_are_all_buffered_is_found_and_erased(redis_buffer, bob):
    buffer.write([event("9" * 32)])
    assert erase_person(find_person(visitor="9" * 32))["buffered_events"] == 1
    assert buffer.backlog() == 0


def test_redis_down_erases_nothing(alice):
    person = find_person(user=alice.pk)
    with override_settings(PROMOTIONS={**shop_settings.PROMOTIONS, "REDIS_URL": "redis://127.0.0.1:1/0"}):
        with pytest.raises(BufferUnavailable, match="unavailable"):
            erase_person(person)
    # The database deletions were rolled back: no half-erased person.
    assert person.events().count() == 4 and person.visitors().count() == 2


@pytest.fixture
def test_cache_name():
    privacy.register_person_cache_key("test-recs")
    yield "test-recs"
    privacy._cache_names.pop("test-recs", None)
    cache.clear()


def test_erase_deletes_their_cached_values(alice, bob, test_cache_name):
    cache.set(privacy.visitor_cache_key(ALICE_COOKIE, test_cache_name), [1])
    cache.set(privacy.user_cache_key(alice.pk, test_cache_name), [2])
    cache.set(privacy.visitor_cache_key(BOB_COOKIE, test_cache_name), [3])
    assert erase_person(find_person(user=alice.pk))["cache"] == 2
    assert cache.get(privacy.visitor_cache_key(ALICE_COOKIE, test_cache_name)) is None
    assert cache.get(privacy.visitor_cache_key(BOB_COOKIE, test_cache_name)) == [3]


def test_with_django_redis_undeclared_keys_under_their_prefix_go_too(redis_url, alice, bob):
    redis_cache = {"default": {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": redis_url}}
    with override_settings(CACHES=redis_cache):
        cache.set(privacy.visitor_cache_key(ALICE_COOKIE, "undeclared"), "x")
        cache.set(privacy.user_cache_key(alice.pk, "undeclared"), "y")
        cache.set(privacy.visitor_cache_key(BOB_COOKIE, "undeclared"), "z")
        person = find_person(user=alice.pk)
        assert len(export_person(person)["sections"]["cache"]) == 2
        assert erase_person(person)["cache"] == 2
        assert cache.get(privacy.visitor_cache_key(BOB_COOKIE, "undeclared")) == "z"
        assert cache.get(privacy.user_cache_key(alice.pk, "undeclared")) is None


@pytest.fixture
def fake_section():
    """A section as another module (experiments, serving) would plug in: here a dict of rows."""
    rows = {ALICE_COOKIE: {"experiment": "hero", "variant": "B"}, BOB_COOKIE: {"experiment": "hero", "variant": "A"}}

    def export(person):
        return [rows[key] for key in person.visitor_ids if key in rows]

    def erase(person):
        # Runs before the built-in sections: the person's visitor rows are still there.
        assert Visitor.objects.filter(key__in=person.visitor_ids).exists()
        return sum(1 for key in person.visitor_ids if rows.pop(key, None) is not None)

    privacy.register_person_data("test_assignments", export, erase)
    yield rows
    privacy.unregister_person_data("test_assignments")


def test_a_registered_section_is_exported_and_erased(alice, bob, fake_section):
    person = find_person(user=alice.pk)
    assert export_person(person)["sections"]["test_assignments"] == [{"experiment": "hero", "variant": "B"}]
    assert erase_person(person)["test_assignments"] == 1
    assert list(fake_section) == [BOB_COOKIE]


def test_an_unregistered_section_is_gone(fake_section):
    privacy.unregister_person_data("test_assignments")
    assert "test_assignments" not in privacy.registered_sections()
    assert privacy.registered_sections()[:5] == ["events", "buffered_events", "visitors", "dead_letters", "cache"]
