"""Attacks on the beacon beyond tests/api: tampered cookies, look-alike origins, lying or missing
lengths, nesting bombs and a spoofed X-Forwarded-For. Each refused request stores nothing."""

from __future__ import annotations

import json
import time
import uuid

import pytest
from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.test import override_settings

from promotions.api.origins import parse_origin
from promotions.conf import app_settings
from promotions.tracking.models import Event
from promotions.visitors.identity import SALT
from tests.api.conftest import ORIGIN, URL, beacon_client, make_events, post, signed_visitor_cookie

from .conftest import rest_framework_with

pytestmark = pytest.mark.django_db


def refused(response, status: int) -> None:
    assert response.status_code == status, response.content
    assert Event.objects.count() == 0


def signer(key: str | None = None, salt: str = app_settings.VISITOR_COOKIE_NAME + SALT) -> signing.TimestampSigner:
    return signing.get_cookie_signer(salt=salt) if key is None else signing.TimestampSigner(key=key, salt=salt)


def tampered_cookies(visitor_id: str) -> dict[str, str]:
    other = signed_visitor_cookie(uuid.uuid4().hex)
    value, stamp, signature = signed_visitor_cookie(visitor_id).split(":")
    return {
        "another key": signing.TimestampSigner(key="x" * 50, salt=app_settings.VISITOR_COOKIE_NAME + SALT).sign(
            visitor_id
        ),
        "another salt": signing.get_cookie_signer(salt="django.contrib.sessions" + SALT).sign(visitor_id),
        "another visitor's signature": f"{value}:{stamp}:{other.split(':')[2]}",
        "changed timestamp": f"{value}:{signing.b62_encode(int(time.time()) + 5)}:{signature}",
        "truncated": f"{value}:{stamp}:{signature[:-1]}",
        "upper-case id": signed_visitor_cookie(visitor_id.upper()),
        "not an id": signed_visitor_cookie("../../etc/passwd"),
        "empty": "",
    }


@pytest.mark.parametrize("kind", list(tampered_cookies(uuid.uuid4().hex)))
def test_tampered_visitor_cookies_are_forbidden(kind, visitor_id):
    client = beacon_client(visitor_id)
    client.cookies[app_settings.VISITOR_COOKIE_NAME] = tampered_cookies(visitor_id)[kind]
    refused(post(client, {"events": make_events(1)}), 403)


def test_an_expired_visitor_cookie_is_forbidden(visitor_id, monkeypatch):
    client = beacon_client(visitor_id)
    signed_at = time.time() - app_settings.VISITOR_COOKIE_AGE - 60
    monkeypatch.setattr(signing.time, "time", lambda: signed_at)
    client.cookies[app_settings.VISITOR_COOKIE_NAME] = signed_visitor_cookie(visitor_id)
    monkeypatch.undo()
    refused(post(client, {"events": make_events(1)}), 403)


@pytest.mark.parametrize(
    "origin",
    [
        "http://testserver@evil.example",
        "http://evil.example/testserver",
        "http://evil.example#@testserver",
        "http://evil.example\\@testserver",  # regression: Python's parser saw host "testserver" here
        "http://testserver.",
        "file://",
        "chrome-extension://testserver-lookalike",
        "http://[::1]",
    ],
)
def test_look_alike_origins_are_forbidden(beacon, origin):
    refused(post(beacon, {"events": make_events(1)}, Origin=origin), 403)
    # The same strings as a Referer, when no Origin is sent.
    response = beacon.post(
        URL, {"events": make_events(1)}, content_type="application/json", headers={"Referer": origin}
    )
    refused(response, 403)


def body_of_length(length: int) -> bytes:
    """A valid one-event batch padded with JSON whitespace to exactly ``length`` bytes."""
    body = json.dumps({"events": make_events(1)}).encode()
    return body[:-1] + b" " * (length - len(body)) + b"}"


def test_the_size_limit_is_exact(beacon):
    limit = app_settings.BEACON_MAX_BYTES
    assert post(beacon, body_of_length(limit)).status_code == 202
    Event.objects.all().delete()
    refused(post(beacon, body_of_length(limit + 1)), 413)


def test_a_body_without_or_with_a_lying_content_length_is_never_read_past_it(beacon):
    body = json.dumps({"events": make_events(1)}).encode()
    # Django reads no body without a Content-Length: an empty body is a parse error.
    refused(beacon.generic("POST", URL, body, "application/json", headers={"Origin": ORIGIN}, CONTENT_LENGTH=""), 400)
    # A Content-Length shorter than the body: only that much is read, which is not JSON.
    refused(beacon.generic("POST", URL, body, "application/json", headers={"Origin": ORIGIN}, CONTENT_LENGTH="10"), 400)
    refused(beacon.generic("POST", URL, body, "application/json", headers={"Origin": ORIGIN}, CONTENT_LENGTH="-5"), 400)


@pytest.mark.parametrize("content_type", ["application/json", "text/plain"])
def test_a_nesting_bomb_is_a_parse_error_not_a_crash(beacon, content_type):
    # Regression: 16 KB of "[" made Python's JSON parser overflow the stack (a 500).
    depth = app_settings.BEACON_MAX_BYTES // 2
    response = post(beacon, "[" * depth + "]" * depth, content_type=content_type)
    refused(response, 400)
    assert "nested too deeply" in response.json()["detail"]


def test_a_spoofed_x_forwarded_for_does_not_lift_the_address_limit():
    # Regression: DRF trusted X-Forwarded-For as sent until NUM_PROXIES was set.
    cache.clear()
    with override_settings(REST_FRAMEWORK=rest_framework_with(promotions_events_address="3/min")):
        answers = [
            post(beacon_client(uuid.uuid4().hex), {"events": make_events(1)}, **{"X-Forwarded-For": f"10.9.0.{n}"})
            for n in range(5)
        ]
    cache.clear()
    assert [response.status_code for response in answers] == [202, 202, 202, 429, 429]
    assert Event.objects.count() == 3
    assert int(answers[-1]["Retry-After"]) > 0


# Exact origins. Regression: only the host name was compared, so any scheme and port of an allowed
# host passed, and so did "http://127.0.0.1:8792.evil.com" (urlsplit reads host 127.0.0.1 there).
# The beacon below is served at http://testserver (port 80); localhost is another allowed host.
@pytest.mark.parametrize(
    "origin",
    [
        "http://testserver:80.evil.example",
        "http://localhost:8792.evil.example",
        "http://testserver:8080",
        "http://localhost:8000",
        "https://testserver",
        "https://localhost",
        "ws://testserver",
        "http://testserver:0",
        "http://testserver:99999",
        "http://evil.example.testserver",
        "http://*.testserver",
        "http://shop.example",  # trusted only over https (below)
    ],
)
def test_other_schemes_ports_and_look_alike_hosts_are_forbidden(beacon, origin):
    with override_settings(CSRF_TRUSTED_ORIGINS=["https://shop.example", "https://*.cdn.example:8443"]):
        refused(post(beacon, {"events": make_events(1)}, Origin=origin), 403)


@pytest.mark.parametrize(
    "origin",
    [
        "http://testserver",
        "http://testserver:80",
        "HTTP://TestServer",
        "http://localhost",
        "https://shop.example",
        "https://shop.example:443",
        "https://static.cdn.example:8443",
        "https://partner.example",
    ],
)
def test_the_shop_s_own_and_trusted_origins_are_accepted(beacon, origin):
    promotions = {**settings.PROMOTIONS, "ALLOWED_ORIGINS": ["https://partner.example"]}
    with override_settings(
        CSRF_TRUSTED_ORIGINS=["https://shop.example", "https://*.cdn.example:8443"], PROMOTIONS=promotions
    ):
        assert post(beacon, {"events": make_events(1)}, Origin=origin).status_code == 202


def test_the_port_of_the_request_is_the_one_compared(visitor_id, db):
    client = beacon_client(visitor_id, SERVER_PORT="8792", HTTP_HOST="127.0.0.1:8792")
    assert post(client, {"events": make_events(1)}, Origin="http://127.0.0.1:8792").status_code == 202
    assert post(client, {"events": make_events(1)}, Origin="http://localhost:8792").status_code == 202
    refused_after = Event.objects.count()
    for origin in (
        "http://127.0.0.1:8792.evil.com",
        "http://127.0.0.1",
        "http://127.0.0.1:8793",
        "https://127.0.0.1:8792",
    ):
        assert post(client, {"events": make_events(1)}, Origin=origin).status_code == 403
    assert Event.objects.count() == refused_after
    # Behind TLS (the proxy's X-Forwarded-Proto trusted), the https origin is the own one.
    secure = beacon_client(visitor_id, HTTP_HOST="shop.example")
    with override_settings(ALLOWED_HOSTS=["shop.example"], SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https")):
        answer = post(
            secure, {"events": make_events(1)}, Origin="https://shop.example", **{"X-Forwarded-Proto": "https"}
        )
        assert answer.status_code == 202
        answer = post(
            secure, {"events": make_events(1)}, Origin="http://shop.example", **{"X-Forwarded-Proto": "https"}
        )
        assert answer.status_code == 403


def test_parse_origin():
    assert parse_origin("https://Shop.Example/path?q#f") == ("https", "shop.example", 443)
    assert parse_origin("http://[::1]:8000") == ("http", "[::1]", 8000)
    assert parse_origin("https://*.shop.example", wildcard=True) == ("https", ".shop.example", 443)
    for value in ("https://*.shop.example", "null", "", "shop.example", "http://a_b.example", "http://shop.example."):
        assert parse_origin(value) is None, value
