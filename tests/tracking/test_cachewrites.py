"""One writer for a page's deferred cache entries and counters, on locmem and on real Redis."""

import pytest
from django.core.cache import cache
from django.test import override_settings

from promotions.visitors import cachewrites

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()
    yield
    cache.clear()


def _write_and_read():
    cache.set("count:a", 2, 60)
    cachewrites.write({"list": ([1, 2], 60), "flag": (1, None)}, {"count:a": (3, 60), "count:b": (1, 60)})
    assert cache.get("list") == [1, 2] and cache.get("flag") == 1
    assert (cache.get("count:a"), cache.get("count:b")) == (5, 1)  # added to, and created
    assert cachewrites.increment("count:b", 2, 60) == 3


def test_entries_and_counts_on_the_default_backend():
    _write_and_read()


def test_entries_and_counts_in_one_pipeline_on_redis(redis_url):
    with override_settings(CACHES={"default": {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": redis_url}}):
        _write_and_read()
        assert cache.ttl("flag") is None  # no expiry asked for, none set
        assert 0 < cache.ttl("list") <= 60 and 0 < cache.ttl("count:b") <= 60
