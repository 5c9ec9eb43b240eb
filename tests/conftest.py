"""Shared fixtures: real services and the shared datasets, skipped or required.

A test that needs Redis, PostgreSQL or the shared data skips when it is absent, and fails
instead when ``PROMOTIONS_REQUIRE_SERVICES=1`` / ``PROMOTIONS_REQUIRE_DATA=1`` (CI sets both).

Redis: the suite uses one database, the one ``TEST_REDIS_URL`` names (for example
``TEST_REDIS_URL=redis://127.0.0.1:6379/15``), and EMPTIES it before and after each test that uses
it (the embedded worker's test included). Without ``TEST_REDIS_URL`` those tests skip, so no
database of yours is touched by default; CI sets it to a database of its own Redis.
PostgreSQL: ``DATABASE_URL=postgres://...`` runs the whole suite on it (a test database is made).
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest
from django.conf import settings

#: The one Redis database the tests may empty; None (unset or empty): Redis tests skip.
REDIS_URL = os.environ.get("TEST_REDIS_URL", "").strip() or None

#: The Oscar suite runs in its own pytest run, with its own settings (one settings module per
#: process): ``DJANGO_SETTINGS_MODULE=tests.oscar_project.settings pytest tests/oscar``.
OSCAR_SETTINGS = "tests.oscar_project.settings"
collect_ignore = [] if os.environ.get("DJANGO_SETTINGS_MODULE") == OSCAR_SETTINGS else ["oscar", "oscar_project"]


def _required(variable: str) -> bool:
    return os.environ.get(variable, "") == "1"


def _unavailable(what: str, variable: str) -> None:
    message = f"{what} is not available"
    if _required(variable):
        pytest.fail(f"{message}, and {variable}=1 requires it")
    pytest.skip(message)


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


@pytest.fixture
def redis_url() -> str:
    """The real Redis database ``TEST_REDIS_URL`` names, emptied before and after the test."""
    import redis

    if REDIS_URL is None:
        _unavailable("Redis (set TEST_REDIS_URL to a database the tests may empty)", "PROMOTIONS_REQUIRE_SERVICES")
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.exceptions.ConnectionError:
        _unavailable(f"Redis at {REDIS_URL}", "PROMOTIONS_REQUIRE_SERVICES")
    client.flushdb()
    yield REDIS_URL
    client.flushdb()


@pytest.fixture
def postgres_available() -> None:
    if not _port_open("127.0.0.1", 5432):
        _unavailable("PostgreSQL on 127.0.0.1:5432", "PROMOTIONS_REQUIRE_SERVICES")


@pytest.fixture(scope="session")
def datasets_dir() -> Path:
    """The shared datasets folder (``SHOP_DATASETS_DIR``)."""
    path = Path(settings.SHOP_DATASETS_DIR)
    if not (path / "online-retail" / "items.csv.gz").exists():
        _unavailable(f"The shared datasets folder {path}", "PROMOTIONS_REQUIRE_DATA")
    return path
