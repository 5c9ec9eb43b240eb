"""Sign-in throttling (django-axes) on the shop's sign-in and the admin's.

Regression: 30 wrong passwords for one account answered 30 × 200, as fast as they came.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from axes.models import AccessAttempt, AccessLog
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from tests.shop.conftest import PASSWORD

pytestmark = pytest.mark.django_db

LIMIT = 5
PAGES = {"shop": reverse("shop:login"), "admin": "/admin/login/"}


@pytest.fixture(autouse=True)
def fast_hashing(settings):
    # Dozens of password checks per test: the production hasher's cost is not what is tested here.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def alice(db):
    return get_user_model().objects.create_user("alice", "alice@example.com", PASSWORD, is_staff=True)


def sign_in(client: Client, page: str, password: str, **extra):
    return client.post(PAGES[page], {"username": "alice", "password": password}, **extra)


def signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


@pytest.mark.parametrize("page", PAGES)
def test_five_failures_lock_the_account_from_that_address(page, alice):
    client = Client()
    answers = [sign_in(client, page, "wrong") for _ in range(LIMIT)]
    assert [answer.status_code for answer in answers] == [200] * (LIMIT - 1) + [429]  # the 5th locks
    locked = sign_in(client, page, PASSWORD)  # even the right password, now
    for answer in (answers[-1], locked):
        assert answer.status_code == 429
        assert "Too many sign-in attempts" in answer.text and "paused for 15 minutes" in answer.text
        assert answer["Retry-After"] == "900"
    assert not signed_in(client)
    # A header the client sends itself (no proxy is trusted) does not make a fresh address.
    assert sign_in(client, page, PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.7").status_code == 429
    # Stored by the database handler, one row for the username and address; the two attempts made
    # while locked out count too (each restarts the cool-off).
    [attempt] = AccessAttempt.objects.all()
    assert (attempt.username, attempt.ip_address, attempt.failures_since_start) == ("alice", "127.0.0.1", LIMIT + 2)


@pytest.mark.parametrize("page", PAGES)
def test_the_owner_signing_in_from_elsewhere_is_not_locked_out(page, alice):
    for _ in range(LIMIT):
        sign_in(Client(REMOTE_ADDR="203.0.113.66"), page, "wrong")
    owner = Client(REMOTE_ADDR="192.0.2.10")
    assert sign_in(owner, page, PASSWORD).status_code == 302
    assert signed_in(owner)


def test_locks_on_the_shop_and_the_admin_count_together(alice):
    client = Client()
    for page in ["shop", "admin", "shop", "admin"]:
        assert sign_in(client, page, "wrong").status_code == 200
    assert sign_in(client, "shop", "wrong").status_code == 429
    assert sign_in(client, "admin", PASSWORD).status_code == 429


def test_a_success_resets_the_count_and_is_not_logged(alice):
    client = Client()
    for _ in range(LIMIT - 1):
        sign_in(client, "shop", "wrong")
    assert sign_in(client, "shop", PASSWORD).status_code == 302
    client.post(reverse("shop:logout"))
    for _ in range(LIMIT - 1):
        assert sign_in(client, "shop", "wrong").status_code == 200
    assert sign_in(client, "shop", PASSWORD).status_code == 302
    assert AccessLog.objects.count() == 0  # successful sign-ins leave no address behind


def test_the_lockout_ends_after_the_cool_off(alice):
    client = Client()
    for _ in range(LIMIT):
        sign_in(client, "shop", "wrong")
    assert sign_in(client, "shop", PASSWORD).status_code == 429
    attempt = AccessAttempt.objects.get()
    AccessAttempt.objects.update(attempt_time=attempt.attempt_time - timedelta(minutes=16))
    assert sign_in(client, "shop", PASSWORD).status_code == 302
    assert not AccessAttempt.objects.exists()  # expired attempts are deleted, not kept


def test_the_lockout_page_is_translated(alice):
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    answers = [sign_in(client, "shop", "wrong") for _ in range(LIMIT)]
    assert answers[-1].status_code == 429
    assert "登录尝试次数过多" in answers[-1].text and "暂停 15 分钟" in answers[-1].text
