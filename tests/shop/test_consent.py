import pytest
from django.test import RequestFactory
from django.urls import reverse

from shop_demo.consent import COOKIE_AGE, COOKIE_NAME, has_consent

BANNER = "We use a first-party cookie to personalize promotions."


@pytest.mark.parametrize(("answer", "value"), [("yes", "yes"), ("no", "no")])
def test_banner_view_stores_the_answer_for_a_year(client, db, answer, value):
    response = client.post(reverse("shop:consent"), {"answer": answer, "next": "/search/?q=mug"})
    assert response.status_code == 302
    assert response.url == "/search/?q=mug"
    cookie = response.cookies[COOKIE_NAME]
    assert cookie.value == value
    assert cookie["max-age"] == COOKIE_AGE == 365 * 24 * 3600


def test_banner_shows_until_answered(client, db):
    assert BANNER in client.get(reverse("shop:home")).text
    client.post(reverse("shop:consent"), {"answer": "no"})
    assert BANNER not in client.get(reverse("shop:home")).text


def test_unknown_answer_is_refused(client, db):
    response = client.post(reverse("shop:consent"), {"answer": "maybe"})
    assert response.status_code == 400
    assert COOKIE_NAME not in response.cookies


def test_next_to_another_site_is_ignored(client, db):
    response = client.post(reverse("shop:consent"), {"answer": "yes", "next": "https://evil.example/"})
    assert response.url == reverse("shop:home")


def test_consent_view_refuses_get(client, db):
    assert client.get(reverse("shop:consent")).status_code == 405


@pytest.mark.parametrize(("cookie", "expected"), [("yes", True), ("no", False), ("YES", False), (None, False)])
def test_has_consent_reads_the_cookie(cookie, expected):
    request = RequestFactory().get("/")
    if cookie is not None:
        request.COOKIES[COOKIE_NAME] = cookie
    assert has_consent(request) is expected


def test_has_consent_after_accepting_through_the_banner(client, db):
    client.post(reverse("shop:consent"), {"answer": "yes"})
    request = RequestFactory().get("/")
    request.COOKIES[COOKIE_NAME] = client.cookies[COOKIE_NAME].value
    assert has_consent(request)
