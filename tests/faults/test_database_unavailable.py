"""A database outage answers a friendly 503 page, never a traceback or a bare 500 (benchmarks/faults/)."""

import uuid

import pytest
from django.db import OperationalError
from django.db.backends.base.base import BaseDatabaseWrapper
from django.test import Client

from tests.api.conftest import beacon_client, make_events, post

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"


@pytest.fixture
def database_down(monkeypatch):
    """Every attempt to reach the database fails as it does when PostgreSQL is stopped."""

    def refuse(self):
        raise OperationalError('connection to server at "127.0.0.1", port 5432 failed: Connection refused')

    monkeypatch.setattr(BaseDatabaseWrapper, "ensure_connection", refuse)


@pytest.fixture
def client() -> Client:
    return Client(raise_request_exception=False, HTTP_USER_AGENT=BROWSER)


@pytest.mark.parametrize("path", ["/", "/category/kitchen/", "/product/MUG1/", "/search/?q=mug"])
def test_pages_that_need_the_database_answer_a_friendly_503(database_down, client, path):
    response = client.get(path)
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    body = response.content.decode()
    assert "Back in a moment" in body
    assert "Traceback" not in body and "OperationalError" not in body


def test_an_error_raised_in_a_middleware_also_answers_503(database_down, client):
    # A visitor with a session: SessionMiddleware's read fails before any view runs.
    client.cookies["sessionid"] = "a" * 32
    response = client.post("/cart/add/MUG1/", {"quantity": "1"})
    assert response.status_code == 503
    assert "Back in a moment" in response.content.decode()


def test_other_errors_keep_the_plain_500(client, monkeypatch):
    def broken(*args, **kwargs):
        raise ValueError("a bug, not an outage")

    monkeypatch.setattr("shop_demo.views.render", broken)
    response = client.get("/")
    assert response.status_code == 500
    assert "Back in a moment" not in response.content.decode()


@pytest.fixture
def buffered(monkeypatch, settings) -> list:
    """Events handed to the buffer (Redis in production); the cache is local, as Redis keeps it then."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    written: list = []
    monkeypatch.setattr("promotions.api.serializers.buffer.write", written.extend)
    return written


def test_the_beacon_of_a_visitor_with_a_session_still_takes_events(database_down, buffered):
    # The session (a cart, a sign-in) cannot be read: the events are kept, without the account.
    visitor_id = uuid.uuid4().hex
    client = beacon_client(visitor_id)
    client.cookies["sessionid"] = "a" * 32
    response = post(client, {"events": make_events(3)})
    assert response.status_code == 202, response.content
    assert [(event["visitor_id"], event["user_id"]) for event in buffered] == [(visitor_id, None)] * 3
