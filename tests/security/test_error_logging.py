"""Server errors are visible with DEBUG off: a traceback on stderr, and a mail to ADMINS when set.

Regression: the demo's LOGGING configured only the ``promotions`` logger; with DEBUG off Django
writes ``django.request`` errors to no handler, so a 500 left no trace anywhere.
"""

from __future__ import annotations

import io
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core import mail
from django.test import Client, override_settings
from django.urls import path

from shop_demo import settings as shop_settings


def boom(request):
    raise RuntimeError("boom from the test view")


urlpatterns = [path("boom/", boom)]
pytestmark = pytest.mark.urls(__name__)


def console_handler() -> logging.StreamHandler:
    """The handler the LOGGING setting gives Django's loggers for the console."""
    [handler] = [handler for handler in logging.getLogger("django").handlers if type(handler) is logging.StreamHandler]
    return handler


@pytest.mark.django_db
def test_a_server_error_writes_its_traceback_to_stderr():
    assert shop_settings.LOGGING["handlers"]["console"]["stream"] == "ext://sys.stderr"
    handler = console_handler()
    written = io.StringIO()
    original = handler.setStream(written)
    try:
        assert Client(raise_request_exception=False).get("/boom/").status_code == 500
    finally:
        handler.setStream(original)
    output = written.getvalue()
    assert "ERROR django.request: Internal Server Error: /boom/" in output
    assert "Traceback (most recent call last)" in output
    assert "RuntimeError: boom from the test view" in output


def test_the_admins_come_from_the_environment(tmp_path):
    code = "from shop_demo import settings as s; print(s.ADMINS)"
    clean = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "SHOP_"))}
    env = {**clean, "SHOP_VAR_DIR": str(tmp_path), "DJANGO_ADMINS": " ops@shop.example, dev@shop.example ,"}
    result = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        cwd=Path(shop_settings.BASE_DIR),
        capture_output=True,
        text=True,
        check=True,
    )
    assert (
        result.stdout.strip() == "[('ops@shop.example', 'ops@shop.example'), ('dev@shop.example', 'dev@shop.example')]"
    )


@pytest.mark.django_db
def test_a_server_error_is_mailed_to_the_admins_when_there_are_any():
    client = Client(raise_request_exception=False)
    with override_settings(ADMINS=[]):
        assert client.get("/boom/").status_code == 500
    assert mail.outbox == []
    with override_settings(ADMINS=[("Ops", "ops@shop.example")]):
        assert client.get("/boom/").status_code == 500
    [message] = mail.outbox
    assert message.to == ["ops@shop.example"]
    assert "Internal Server Error: /boom/" in message.subject
    assert "RuntimeError at /boom/\nboom from the test view" in message.body
    assert "Traceback (most recent call last)" in message.body


@pytest.mark.django_db
@pytest.mark.urls("shop_demo.urls")
def test_not_found_and_refused_requests_are_not_mailed():
    with override_settings(ADMINS=[("Ops", "ops@shop.example")]):
        assert Client().get("/no-such-page/").status_code == 404
        assert Client().get("/search/?q=%00").status_code == 400
        assert Client(HTTP_HOST="evil.example").get("/").status_code == 400
    assert mail.outbox == []
