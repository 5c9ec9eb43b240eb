"""The middleware gives each visitor a stable id in a signed cookie and refuses forged ones."""

import pytest
from django.urls import reverse

from promotions.conf import app_settings

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0"


@pytest.mark.django_db
def test_visitor_id_issued_once_and_kept(client):
    client.defaults["HTTP_USER_AGENT"] = BROWSER
    client.cookies["shop_consent"] = "yes"
    first = client.get(reverse("shop:home"))
    cookie = first.cookies[app_settings.VISITOR_COOKIE_NAME]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    visitor_id = first.wsgi_request.visitor_id
    second = client.get(reverse("shop:home"))
    assert second.wsgi_request.visitor_id == visitor_id
    assert app_settings.VISITOR_COOKIE_NAME not in second.cookies


@pytest.mark.django_db
def test_forged_visitor_cookie_is_replaced(client):
    client.defaults["HTTP_USER_AGENT"] = BROWSER
    client.cookies["shop_consent"] = "yes"
    client.cookies[app_settings.VISITOR_COOKIE_NAME] = "0" * 32
    response = client.get(reverse("shop:home"))
    assert response.wsgi_request.visitor_id != "0" * 32
    assert app_settings.VISITOR_COOKIE_NAME in response.cookies
