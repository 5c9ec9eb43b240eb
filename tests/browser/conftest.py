"""A real headless Chromium (Debian's, driven by Playwright) against the live dev server.

Skipped when Playwright or /usr/bin/chromium is missing, failed instead when
``PROMOTIONS_REQUIRE_SERVICES=1`` (CI installs both). Screenshots go to
``PROMOTIONS_BROWSER_ARTIFACTS`` (default: ``browser-artifacts`` under pytest's temporary folder).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.db import connections

from tests.conftest import _unavailable

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS_VARIABLE = "PROMOTIONS_BROWSER_ARTIFACTS"


@pytest.fixture(scope="session")
def browser_artifacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the browser tests save their screenshots."""
    configured = os.environ.get(ARTIFACTS_VARIABLE)
    path = Path(configured) if configured else tmp_path_factory.getbasetemp() / "browser-artifacts"
    path.mkdir(parents=True, exist_ok=True)
    return path


@contextmanager
def launch_chromium() -> Iterator:
    """A headless Chromium: the system's, never a downloaded one (skips or fails without it)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("The playwright package", "PROMOTIONS_REQUIRE_SERVICES")
    if not CHROMIUM.exists():
        _unavailable(f"Chromium at {CHROMIUM}", "PROMOTIONS_REQUIRE_SERVICES")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(transactional_db: None, monkeypatch: pytest.MonkeyPatch) -> Iterator:
    """A page of a headless Chromium: the system's, never a downloaded one.

    Started per test, after the test database: Playwright's synchronous API keeps an event loop in
    this thread while it runs, which Django's ORM would take for async code (hence the variable,
    for the test's own plain synchronous ORM calls) and which must be gone before other tests run.
    """
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with launch_chromium() as browser:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(15_000)
        yield page
        # While Playwright's loop runs, Django keeps this thread's connections apart from the ones
        # it uses without a loop: close them now, or the test database could not be dropped.
        connections.close_all()
