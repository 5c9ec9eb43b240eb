"""The health endpoint: every check, its failures, 200/503, the ?checks= filter and who may read it."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from celery import current_app
from django.db import OperationalError
from django.db.backends.base.base import BaseDatabaseWrapper
from django.test import Client, override_settings
from kombu import Connection

from promotions.ops import health
from promotions.training.models import ModelVersion

from .conftest import HEALTH_URL, METRICS_URL, model_version, promotions_settings

pytestmark = pytest.mark.django_db
Status = ModelVersion.Status
TOKEN = "t" * 40
BEARER = {"Authorization": f"Bearer {TOKEN}"}


def test_all_checks_pass_with_a_fresh_model(staff_client, fresh_model):
    response = staff_client.get(HEALTH_URL)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "ok" and body["failing"] == []
    assert list(body["checks"]) == ["database", "cache", "broker", "buffer", "model", "training"]
    assert all(check["ok"] and check["seconds"] >= 0 for check in body["checks"].values())
    assert body["checks"]["model"]["version"] == fresh_model.pk
    assert 3500 < body["checks"]["model"]["age_seconds"] < 3700
    assert body["checks"]["buffer"] == {**body["checks"]["buffer"], "backend": "database", "backlog": 0}
    assert response["Cache-Control"].startswith("max-age=0")


def test_no_active_model_is_a_failure(staff_client):
    response = staff_client.get(HEALTH_URL)
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "fail" and body["failing"] == ["model"]
    assert "No model is active" in body["checks"]["model"]["error"]


def test_a_stale_model_fails_and_reports_its_age(staff_client):
    model_version(Status.ACTIVE, age=timedelta(days=3))
    body = staff_client.get(HEALTH_URL).json()
    assert body["failing"] == ["model"]
    assert body["checks"]["model"]["age_seconds"] == pytest.approx(3 * 86400, abs=60)
    assert "72 hours ago" in body["checks"]["model"]["error"]
    with promotions_settings(OPS_MODEL_MAX_AGE=4 * 86400):
        assert staff_client.get(HEALTH_URL).status_code == 200


def test_a_failed_last_training_fails_with_its_error(staff_client):
    model_version(Status.ACTIVE, age=timedelta(hours=20))
    model_version(Status.FAILED, age=timedelta(hours=1), error="Traceback...\n  File x\nValueError: no events")
    body = staff_client.get(HEALTH_URL).json()
    assert body["failing"] == ["training"]
    assert body["checks"]["training"]["last_status"] == "failed"
    assert body["checks"]["training"]["error"].endswith("failed: ValueError: no events")
    # A later success clears it; a run still training does not count either way.
    model_version(Status.READY, age=timedelta(minutes=10))
    model_version(Status.TRAINING, age=timedelta(minutes=1))
    assert staff_client.get(HEALTH_URL).json()["checks"]["training"] == {
        "ok": True,
        "seconds": pytest.approx(0, abs=1),
        "last_status": "succeeded",
    }


def test_a_failing_database_fails_its_checks_and_the_others_still_run(fresh_model, monkeypatch):
    def refuse(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(BaseDatabaseWrapper, "cursor", refuse)
    monkeypatch.setitem(health.CHECKS, "cache", lambda: {})  # the test cache is a database table
    # The token, not a staff session: reading the session would need the database too.
    with promotions_settings(OPS_TOKEN=TOKEN):
        response = Client().get(HEALTH_URL + "?checks=database,cache,buffer", headers=BEARER)
    assert response.status_code == 503
    body = response.json()
    assert body["failing"] == ["database"]
    assert body["checks"]["database"]["error"] == "OperationalError: connection refused"
    assert body["checks"]["cache"]["ok"] and body["checks"]["buffer"]["ok"]


def test_a_cache_that_swallows_its_errors_still_fails(staff_client, fresh_model):
    dead = {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}
    with override_settings(CACHES={"default": {**dead, "OPTIONS": {"IGNORE_EXCEPTIONS": True}}}):
        body = staff_client.get(HEALTH_URL + "?checks=cache").json()
    assert body["failing"] == ["cache"]
    assert body["checks"]["cache"]["error"] == "The cache did not return the value just written to it."


def test_an_unreachable_broker_fails(staff_client, monkeypatch):
    dead = "redis://127.0.0.1:1/0"
    monkeypatch.setattr(current_app, "connection_for_write", lambda **options: Connection(dead, **options))
    started = time.monotonic()
    body = staff_client.get(HEALTH_URL + "?checks=broker").json()
    assert body["failing"] == ["broker"]
    assert "Error" in body["checks"]["broker"]["error"]
    assert time.monotonic() - started < 5  # one short attempt, not kombu's retry loop


def test_buffer_reports_its_backlog_and_the_oldest_events_age(staff_client, redis_url, redis_buffer, fresh_model):
    stream = "promotions:events"
    old_ms = int((time.time() - 90) * 1000)
    redis_buffer.xadd(stream, {"r": "[]"}, id=f"{old_ms}-0")
    redis_buffer.xadd(stream, {"r": "[]"})
    body = staff_client.get(HEALTH_URL + "?checks=buffer").json()
    assert body["checks"]["buffer"]["ok"], body
    assert body["checks"]["buffer"]["backlog"] == 2
    assert body["checks"]["buffer"]["oldest_age_seconds"] == pytest.approx(90, abs=5)
    with promotions_settings(REDIS_URL=redis_url, OPS_BACKLOG_MAX_AGE=60):
        body = staff_client.get(HEALTH_URL + "?checks=buffer").json()
    assert body["failing"] == ["buffer"] and "has waited 9" in body["checks"]["buffer"]["error"]
    with promotions_settings(REDIS_URL=redis_url, OPS_BACKLOG_MAX_EVENTS=1):
        body = staff_client.get(HEALTH_URL + "?checks=buffer").json()
    assert body["failing"] == ["buffer"] and "2 events wait" in body["checks"]["buffer"]["error"]


def test_an_unreachable_redis_buffer_fails(staff_client, db):
    with promotions_settings(REDIS_URL="redis://127.0.0.1:1/0"):
        body = staff_client.get(HEALTH_URL + "?checks=buffer").json()
    assert body["failing"] == ["buffer"]
    assert body["checks"]["buffer"]["error"].startswith("ConnectionError")


def test_checks_parameter_selects_and_unknown_names_are_refused(staff_client):
    body = staff_client.get(HEALTH_URL + "?checks=cache,database,cache").json()
    assert list(body["checks"]) == ["cache", "database"] and body["status"] == "ok"
    response = staff_client.get(HEALTH_URL + "?checks=database,disk")
    assert response.status_code == 400
    assert "Known checks: database, cache, broker, buffer, model, training" in response.json()["detail"]


@pytest.mark.parametrize("url", [HEALTH_URL, METRICS_URL])
def test_anonymous_and_customers_are_refused(url, django_user_model):
    assert Client().get(url).status_code == 403
    customer = Client()
    customer.force_login(django_user_model.objects.create_user("customer", password="x"))
    response = customer.get(url)
    assert response.status_code == 403 and "operations token" in response.json()["detail"]


@pytest.mark.parametrize("url", [HEALTH_URL, METRICS_URL])
def test_the_token_opens_the_endpoints_and_nothing_else_does(url):
    token = TOKEN
    client = Client()
    with promotions_settings(OPS_TOKEN=token):
        assert client.get(url, headers={"Authorization": f"Bearer {token}"}).status_code in {200, 503}
        for wrong in (f"Bearer {token[:-1]}", f"Basic {token}", token, "Bearer "):
            assert client.get(url, headers={"Authorization": wrong}).status_code == 403
    # No token configured: an empty bearer must not match it.
    with promotions_settings(OPS_TOKEN=""):
        assert client.get(url, headers={"Authorization": "Bearer "}).status_code == 403


def test_allowed_networks_go_by_the_connecting_address_only():
    with promotions_settings(OPS_ALLOWED_NETWORKS=["10.1.0.0/16", "2001:db8::/32"]):
        assert Client(REMOTE_ADDR="10.1.2.3").get(HEALTH_URL).status_code in {200, 503}
        assert Client(REMOTE_ADDR="2001:db8::5").get(HEALTH_URL).status_code in {200, 503}
        outside = Client(REMOTE_ADDR="10.2.0.1")
        assert outside.get(HEALTH_URL, headers={"X-Forwarded-For": "10.1.2.3"}).status_code == 403


def test_only_get_and_head(staff_client):
    assert staff_client.post(HEALTH_URL).status_code == 405
    assert staff_client.head(HEALTH_URL).status_code in {200, 503}


def test_checks_stay_isolated_when_one_raises_unexpectedly(monkeypatch):
    def broken():
        raise RuntimeError("boom\nsecond line")

    monkeypatch.setitem(health.CHECKS, "cache", broken)
    results = {result.name: result for result in health.run_checks(["database", "cache"])}
    assert results["database"].ok
    assert not results["cache"].ok and results["cache"].error == "RuntimeError: boom"
