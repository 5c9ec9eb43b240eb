"""The headless example: a static page (HTML and vanilla JavaScript, no build step, nothing from a
CDN) that shows recommendations and a priced basket through the public API only, with a key of
limited scope (``read`` and ``baskets``: no events) that ``manage.py demo`` creates.

The key's full text exists only when it is created; the demo keeps it in ``VAR_DIR`` (outside the
repository, readable by its owner only) so that the page can be served with it after a restart.
"""

from __future__ import annotations

import os
from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles import finders
from django.http import HttpRequest, HttpResponse
from django.utils.html import escape

from promotions.api.keys import ApiKey, find_key

KEY_NAME = "headless example (demo)"
SCOPES = ["read", "baskets"]
RATE = "120/min"
PAGE = "shop_demo/headless/index.html"


def key_file() -> Path:
    return Path(settings.VAR_DIR) / "headless-api-key"


def ensure_key() -> str:
    """The example's key: the one kept from an earlier run while it still works, else a new one."""
    path = key_file()
    if path.exists():
        text = path.read_text().strip()
        if find_key(text) is not None:
            return text
    for old in ApiKey.objects.filter(name=KEY_NAME, revoked_at__isnull=True):
        old.revoke()
    _key, text = ApiKey.objects.issue(KEY_NAME, SCOPES, rate=RATE)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text + "\n")
    os.chmod(path, 0o600)
    return text


def create_for_demo(stdout, addrport: str) -> None:
    """Called by ``manage.py demo``: make sure the key exists and say where the page is."""
    ensure_key()
    stdout.write(f"  Headless example (public API, key with scopes {', '.join(SCOPES)}): http://{addrport}/headless/")


def page(request: HttpRequest) -> HttpResponse:
    """The static page, with the example's key in a meta tag (none yet: the page says so)."""
    html = Path(finders.find(PAGE)).read_text()
    path = key_file()
    text = path.read_text().strip() if path.exists() else ""
    html = html.replace("{{ api_key }}", escape(text))
    response = HttpResponse(html, content_type="text/html; charset=utf-8")
    response["Cache-Control"] = "no-store"
    return response
