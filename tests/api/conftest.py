import json
import uuid

import pytest
from django.core import signing
from django.test import Client

from promotions.conf import app_settings
from promotions.visitors.identity import SALT
from tests.tracking.conftest import BROWSER

URL = "/promotions/api/events/"
ORIGIN = "http://testserver"


def signed_visitor_cookie(visitor_id: str) -> str:
    """The cookie value the tracking middleware would have set (HttpResponse.set_signed_cookie)."""
    return signing.get_cookie_signer(salt=app_settings.VISITOR_COOKIE_NAME + SALT).sign(visitor_id)


def make_events(n=1, **extra):
    return [{"type": "promotion_impression", "id": str(uuid.uuid4()), "promotion": 7, **extra} for _ in range(n)]


def post(client, payload, content_type="application/json", **headers):
    body = payload if isinstance(payload, str | bytes) else json.dumps(payload)
    return client.post(URL, body, content_type=content_type, headers={"Origin": ORIGIN, **headers})


@pytest.fixture
def visitor_id() -> str:
    return uuid.uuid4().hex


def beacon_client(visitor_id: str, **kwargs) -> Client:
    """A consenting browser holding a validly signed visitor cookie."""
    client = Client(HTTP_USER_AGENT=BROWSER, **kwargs)
    client.cookies["shop_consent"] = "yes"
    client.cookies[app_settings.VISITOR_COOKIE_NAME] = signed_visitor_cookie(visitor_id)
    return client


@pytest.fixture
def beacon(db, visitor_id) -> Client:
    return beacon_client(visitor_id)
