"""Exposures are counted at render time, per visitor and day, in the shared cache, and erased with the person."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.test import override_settings
from django.utils import timezone

from promotions.tracking.capture import TrackingState
from promotions.tracking.exposures import (
    EXPOSURE_TTL_SECONDS,
    exposure_count,
    record_exposure,
    record_exposures,
)
from promotions.tracking.privacy import erase_person, export_person, find_person, visitor_cache_key

VISITOR, OTHER = "a" * 32, "b" * 32


@pytest.fixture(autouse=True)
def empty_cache(db):
    cache.clear()


def request_for(rf, visitor_id, allowed=True):
    request = rf.get("/")
    request.user = AnonymousUser()
    request.promotions = TrackingState(allowed=allowed, visitor_id=visitor_id if allowed else None)
    return request


def test_counts_per_visitor_kind_and_key(rf):
    mine = request_for(rf, VISITOR)
    assert [record_exposure(mine, "promotion", 7) for _ in range(3)] == [1, 2, 3]
    record_exposure(mine, "promotion", 8)
    record_exposure(request_for(rf, OTHER), "promotion", 7)
    assert exposure_count(VISITOR, "promotion", 7) == 3
    assert exposure_count(VISITOR, "promotion", 8) == 1
    assert exposure_count(VISITOR, "recommendation", 7) == 0
    assert exposure_count(OTHER, "promotion", 7) == 1
    assert exposure_count(VISITOR, "promotion", 7, timezone.localdate() - timedelta(days=1)) == 0


def _count_several(rf):
    mine = request_for(rf, VISITOR)
    record_exposure(mine, "promotion", 7)
    record_exposures(mine, "promotion", [7, 8])
    record_exposures(mine, "promotion", [8])
    record_exposures(request_for(rf, VISITOR, allowed=False), "promotion", [7])
    assert [exposure_count(VISITOR, "promotion", key) for key in (7, 8, 9)] == [2, 2, 0]
    assert exposure_count(VISITOR, "promotion", 8) == 2
    assert record_exposure(mine, "promotion", 8) == 3  # the pipelined counts are plain integers


def test_several_counted_at_once(rf):
    _count_several(rf)


def _counted_after_the_body(rf):
    from promotions.tracking.capture import write_pending

    request = request_for(rf, VISITOR)
    request.promotions.cache_writes, request.promotions.cache_counts = {}, {}  # as the middleware sets them
    record_exposures(request, "promotion", [7, 8])
    record_exposures(request, "promotion", [7])
    assert exposure_count(VISITOR, "promotion", 7) == 0  # the page has read the counts already
    write_pending(request)  # the response is closed
    assert [exposure_count(VISITOR, "promotion", key) for key in (7, 8)] == [2, 1]
    assert request.promotions.cache_counts == {}


def test_under_the_middleware_counts_are_added_after_the_body(rf):
    _counted_after_the_body(rf)


def test_under_the_middleware_counts_are_added_after_the_body_on_redis(rf, redis_url):
    with override_settings(CACHES={"default": {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": redis_url}}):
        _counted_after_the_body(rf)
        name = f"exposures:{timezone.localdate().isoformat()}:promotion:7"
        assert 0 < cache.ttl(visitor_cache_key(VISITOR, name)) <= EXPOSURE_TTL_SECONDS


def test_several_counted_in_one_pipeline_on_redis(rf, redis_url):
    with override_settings(CACHES={"default": {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": redis_url}}):
        _count_several(rf)
        name = f"exposures:{timezone.localdate().isoformat()}:promotion:8"
        assert 0 < cache.ttl(visitor_cache_key(VISITOR, name)) <= EXPOSURE_TTL_SECONDS  # expires like the others


def test_opted_out_visitors_are_not_counted(rf):
    assert record_exposure(request_for(rf, VISITOR, allowed=False), "promotion", 7) == 0
    assert record_exposure(rf.get("/"), "promotion", 7) == 0  # no tracking middleware on this request


@pytest.mark.django_db
def test_erasure_and_export_cover_the_counts(rf):
    from promotions.tracking import buffer
    from tests.offers.conftest import make_promotion

    buffer.insert(
        [{"event_type": "view", "visitor_id": VISITOR, "occurred_at": timezone.now(), "idempotency_key": "k1"}]
    )
    # Counted for a real promotion: erasure finds the counts of every promotion on any cache backend.
    promotion = make_promotion(frequency_cap=2).pk
    record_exposure(request_for(rf, VISITOR), "promotion", promotion)
    record_exposure(request_for(rf, OTHER), "promotion", promotion)
    person = find_person(visitor=VISITOR)
    assert export_person(person)["sections"]["cache"]
    erase_person(person)
    assert exposure_count(VISITOR, "promotion", promotion) == 0
    assert exposure_count(OTHER, "promotion", promotion) == 1
