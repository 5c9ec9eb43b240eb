"""The admin index's operations alerts, and the structured fallback log lines."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from promotions.fallbacks import logfmt
from promotions.ops import log_fallback
from promotions.training.models import ModelVersion

from .conftest import model_version, promotions_settings

Status = ModelVersion.Status
ALERTS = 'id="promotions-ops-alerts"'


@pytest.mark.django_db
def test_admin_index_alerts_on_a_stale_model_a_failed_training_and_a_growing_backlog(
    staff_client, redis_url, redis_buffer
):
    model_version(Status.ACTIVE, age=timedelta(days=5))
    model_version(Status.FAILED, age=timedelta(hours=2), error="RuntimeError: out of memory")
    redis_buffer.xadd("promotions:events", {"r": "[]"})
    with promotions_settings(REDIS_URL=redis_url, OPS_BACKLOG_MAX_EVENTS=0):
        page = staff_client.get("/admin/").content.decode()
    assert page.count(ALERTS) == 1
    assert "trained 120 hours ago" in page
    assert "failed: RuntimeError: out of memory" in page
    assert "1 events wait in the buffer" in page


@pytest.mark.django_db
def test_no_alerts_when_healthy(staff_client):
    model_version(Status.ACTIVE)
    page = staff_client.get("/admin/").content.decode()
    assert ALERTS not in page and "Site administration" in page


@pytest.mark.django_db
def test_alerts_only_for_staff_who_may_view_model_versions(django_user_model):
    model_version(Status.FAILED, error="boom")
    editor = django_user_model.objects.create_user("editor", password="x", is_staff=True)
    client = Client()
    client.force_login(editor)
    assert ALERTS not in client.get("/admin/").content.decode()
    editor.user_permissions.add(Permission.objects.get(codename="view_modelversion"))
    assert "failed: boom" in client.get("/admin/").content.decode()


@pytest.mark.django_db
def test_alert_messages_are_escaped(staff_client):
    model_version(Status.FAILED, error="ValueError: <script>alert(1)</script>")
    page = staff_client.get("/admin/").content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert(1)" not in page


def test_a_fallback_is_one_structured_line(caplog, rf):
    request = rf.get("/product/85123A/?q=1")
    with caplog.at_level(logging.INFO, logger="promotions.fallback"):
        log_fallback("redis_down", request=request, component="promotion_tags", served="popular", items=3)
    (record,) = caplog.records
    assert record.name == "promotions.fallback" and record.levelno == logging.WARNING
    assert record.getMessage() == (
        "event=fallback reason=redis_down method=GET path=/product/85123A/"
        " component=promotion_tags served=popular items=3"
    )
    assert record.fallback["reason"] == "redis_down" and record.fallback["items"] == 3


def test_values_are_quoted_and_cannot_forge_a_second_line():
    line = logfmt({"path": "/a b", "error": 'x"y\\z', "query": "q\nevent=fallback reason=forged", "none": None})
    assert "\n" not in line
    assert line == ('path="/a b" error="x\\"y\\\\z" query="q\\nevent=fallback reason=forged" none=""')
    assert logfmt({"bad key=": True, "": False}) == "bad_key_=true _=false"


def test_level_can_be_lowered_and_disabled_levels_cost_nothing(caplog):
    with caplog.at_level(logging.WARNING, logger="promotions.fallback"):
        log_fallback("no_history", level=logging.INFO, visitor_kind="new")
    assert caplog.records == []
    with caplog.at_level(logging.INFO, logger="promotions.fallback"):
        log_fallback("no_history", level=logging.INFO, visitor_kind="new")
    assert caplog.records[0].getMessage() == "event=fallback reason=no_history visitor_kind=new"
