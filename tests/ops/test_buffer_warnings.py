"""Health tells the truth about the event buffer: a Redis that can lose accepted events, dead-lettered
events (health warning, Prometheus, admin banner) and a stalled flush named with its cause."""

from __future__ import annotations

import json
import time

import pytest
import redis
from django.db import OperationalError
from django.db.backends.base.base import BaseDatabaseWrapper

from promotions.tasks import flush_events
from promotions.tracking import buffer
from promotions.tracking.models import DeadLetterEvent
from tests.conftest import REDIS_URL

from .conftest import HEALTH_URL, METRICS_URL, promotions_settings

pytestmark = pytest.mark.django_db
DURABLE = {"appendonly": "yes", "appendfsync": "everysec", "maxmemory-policy": "noeviction"}


@pytest.fixture
def redis_config(redis_url):
    """Set the real Redis's persistence settings for a test; the server's own are put back after."""
    client = redis.Redis.from_url(redis_url)
    saved = {name: client.config_get(name)[name] for name in DURABLE}

    def apply(**values: str) -> None:
        for name, value in values.items():
            client.config_set(name.replace("_", "-"), value)

    yield apply
    # appendonly last: switching it off first would leave nothing else to restore if that failed.
    for name in ("maxmemory-policy", "appendfsync", "appendonly"):
        client.config_set(name, saved[name])


def buffer_check(client) -> dict:
    return client.get(HEALTH_URL + "?checks=buffer").json()


def test_a_durable_buffer_redis_gives_no_warning(staff_client, redis_buffer, redis_config):
    redis_config(**{"appendonly": "yes", "appendfsync": "everysec", "maxmemory_policy": "noeviction"})
    body = buffer_check(staff_client)
    assert body["checks"]["buffer"]["ok"] and "warnings" not in body["checks"]["buffer"], body
    assert body["warnings"] == []


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({"appendonly": "no", "appendfsync": "everysec", "maxmemory_policy": "noeviction"}, "appendonly no"),
        ({"appendonly": "yes", "appendfsync": "no", "maxmemory_policy": "noeviction"}, "appendfsync no"),
        ({"appendonly": "yes", "appendfsync": "everysec", "maxmemory_policy": "allkeys-lru"}, "allkeys-lru"),
    ],
)
def test_a_buffer_redis_that_can_lose_events_is_a_warning_not_a_failure(
    staff_client, redis_buffer, redis_config, settings, named
):
    redis_config(**settings)
    response = staff_client.get(HEALTH_URL + "?checks=buffer")
    assert response.status_code == 200
    body = response.json()
    [warning] = body["checks"]["buffer"]["warnings"]
    assert named in warning and "can be lost" in warning and body["warnings"] == ["buffer"]


@pytest.fixture
def redis_user_without_config(redis_url):
    """A real Redis user refused CONFIG, as managed Redis services refuse it."""
    client = redis.Redis.from_url(redis_url)
    name, password = "promotions-no-config", "s3cret-for-tests"
    client.acl_setuser(name, enabled=True, passwords=[f"+{password}"], keys=["*"], channels=["*"],
                       commands=["+@all", "-config"])  # fmt: skip
    yield REDIS_URL.replace("redis://", f"redis://{name}:{password}@")
    client.acl_deluser(name)


def test_a_buffer_redis_that_refuses_config_is_unknown(staff_client, redis_url, redis_user_without_config):
    with promotions_settings(REDIS_URL=redis_user_without_config):
        body = buffer_check(staff_client)
    assert body["checks"]["buffer"]["ok"], body
    [warning] = body["checks"]["buffer"]["warnings"]
    assert "durability is unknown" in warning


def test_dead_letters_warn_in_health_metrics_and_the_admin(staff_client, redis_buffer):
    redis_buffer.xadd("promotions:events", {"r": json.dumps(["view"])})
    redis_buffer.xadd("promotions:events", {"r": b"{"})
    flush_events()
    response = staff_client.get(HEALTH_URL)
    body = response.json()
    assert body["checks"]["buffer"]["dead_letters"] == 2 and "buffer" in body["warnings"]
    assert any("2 events could not be stored" in text for text in body["checks"]["buffer"]["warnings"])
    metrics = staff_client.get(METRICS_URL).content.decode()
    assert "\npromotions_event_dead_letters 2\n" in metrics
    assert 'promotions_check_warnings{check="buffer"}' in metrics
    page = staff_client.get("/admin/").content.decode()
    assert "2 events could not be stored and wait in the dead letters" in page
    DeadLetterEvent.objects.all().delete()
    assert buffer_check(staff_client)["checks"]["buffer"]["dead_letters"] == 0


def refuse(*args, **kwargs):
    raise OperationalError("connection refused (the database is down)")


def test_a_failing_flush_is_named_with_its_error_before_the_age_limit(
    staff_client, redis_url, redis_buffer, monkeypatch
):
    buffer.write([{"event_type": "view", "visitor_id": "v", "occurred_at": "2026-01-01T00:00:00+00:00",
                   "idempotency_key": "k1"}])  # fmt: skip
    assert flush_events() == 1  # a success first
    buffer._redis_down_until = 0.0
    redis_buffer.xadd("promotions:events", {"r": json.dumps(buffer.to_row(
        {"event_type": "view", "visitor_id": "v", "occurred_at": "2026-01-01T00:00:00+00:00", "idempotency_key": "k2"}
    ))})  # fmt: skip
    with monkeypatch.context() as patch:
        patch.setattr(BaseDatabaseWrapper, "cursor", refuse)
        with pytest.raises(OperationalError):
            flush_events()
    # The event is not dead-lettered (the database, not the row, failed) and waits.
    assert buffer.backlog() == 1
    assert buffer_check(staff_client)["checks"]["buffer"]["ok"]  # a single failure is no stall yet
    # A minute later, still failing: the check fails at once, naming the error, not the worker.
    state = buffer.flush_state_key()
    redis_buffer.hset(state, mapping={"ok_at": time.time() - 130, "error_at": time.time() - 5})
    body = buffer_check(staff_client)
    error = body["checks"]["buffer"]["error"]
    assert body["failing"] == ["buffer"] and "The flush task fails (for 13" in error
    assert "connection refused (the database is down)" in error and "worker" not in error
    assert flush_events() == 1 and buffer_check(staff_client)["checks"]["buffer"]["ok"]


def test_a_backlog_no_flush_ever_moved_says_so(staff_client, redis_url, redis_buffer):
    old_ms = int((time.time() - 90) * 1000)
    redis_buffer.xadd("promotions:events", {"r": "[]"}, id=f"{old_ms}-0")
    with promotions_settings(REDIS_URL=redis_url, OPS_BACKLOG_MAX_AGE=60):
        error = buffer_check(staff_client)["checks"]["buffer"]["error"]
        assert "no flush has ever succeeded" in error
        redis_buffer.hset(buffer.flush_state_key(), mapping={"ok_at": time.time() - 1})
        error = buffer_check(staff_client)["checks"]["buffer"]["error"]
    assert "although the flush runs" in error
