"""NUL characters and invalid bytes in what a visitor sends: a 400 or a 404, never a 500.

Regression: on PostgreSQL, ``/search/?q=%00`` and ``/product/85123A%00/`` raised ``DataError``
(text cannot hold NUL) in the shop's views, and a session cookie holding NUL did the same in
``SessionMiddleware``. On SQLite they answered 200 and let the NUL through to the events.
"""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client, override_settings

from promotions.tracking.models import Event
from tests.tracking.conftest import BROWSER

pytestmark = pytest.mark.django_db

REJECT_NUL = "promotions.ops.middleware.RejectNulMiddleware"


def visitor(**kwargs) -> Client:
    """A consenting browser; exceptions come back as the 500 a visitor would see."""
    client = Client(HTTP_USER_AGENT=BROWSER, raise_request_exception=False, **kwargs)
    client.cookies["shop_consent"] = "yes"
    return client


@pytest.mark.parametrize(
    "url",
    [
        "/search/?q=%00",
        "/search/?q=" + "a" * 100 + "%00",  # past the view's 100 characters, within the middleware's 200
        "/search/?%00=1",
        "/search/?q=ok&q=%00",
        "/product/85123A%00/",
        "/%00/",
        "/admin/%00/",
        "/promotions/api/events/?x=%00",
    ],
)
def test_nul_in_the_path_or_query_is_a_400_with_a_message(url, product):
    response = visitor().get(url)
    assert response.status_code == 400
    assert response.content.decode() == "The address contains a NUL character, which is not allowed."
    assert Event.objects.count() == 0  # nothing captured from it


def test_the_message_is_in_the_visitor_s_language(product):
    chinese = visitor(HTTP_ACCEPT_LANGUAGE="zh-hans").get("/search/?q=%00")
    assert chinese.content.decode() == "地址中含有不允许的 NUL 字符。"
    english = visitor(HTTP_ACCEPT_LANGUAGE="en").get("/search/?q=%00")  # the same thread, straight after
    assert english.content.decode() == "The address contains a NUL character, which is not allowed."


def test_the_same_requests_without_nul_are_served_and_tracked(product):
    browser = visitor()
    assert browser.get("/search/?q=" + "a" * 100).status_code == 200
    assert browser.get("/product/85123A/").status_code == 200
    assert sorted(Event.objects.values_list("event_type", flat=True)) == ["search", "view"]


@pytest.mark.parametrize("url, status", [("/search/?q=%ff%fe", 200), ("/product/%ff/", 404), ("/product/%C0%80/", 404)])
def test_invalid_utf8_is_served_or_not_found(url, status, product):
    assert visitor().get(url).status_code == status


def test_a_cookie_holding_nul_is_dropped_and_the_session_starts_afresh(product):
    browser = visitor(HTTP_COOKIE='sessionid="\\000abcdefghijkl"; shop_consent=yes')
    response = browser.get("/product/85123A/")
    assert response.status_code == 200
    assert "sessionid" not in response.wsgi_request.COOKIES
    added = browser.post("/cart/add/85123A/", {"quantity": 1})
    assert added.status_code == 302
    assert "\x00" not in added.cookies["sessionid"].value  # a fresh session replaces the broken cookie


def test_the_tracking_middleware_alone_never_fails_on_nul(product):
    # Without the rejecting middleware the NUL reaches the tracking middleware's capture: it still
    # serves the page (the view cuts q at 100 characters and so never sees the NUL).
    middleware = [name for name in settings.MIDDLEWARE if name != REJECT_NUL]
    with override_settings(MIDDLEWARE=middleware):
        response = visitor().get("/search/?q=" + "a" * 100 + "%00", headers={"Referer": "http://testserver/%00"})
    assert response.status_code == 200
