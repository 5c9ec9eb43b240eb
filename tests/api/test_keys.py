"""API keys: created and shown once, stored hashed, scoped, rate-limited, revocable; a refused call stores nothing."""

import hashlib
import re
import uuid

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.test import Client

from promotions.api.keys import ApiKey, find_key
from promotions.registry import forget_all
from promotions.tracking.models import Event

from .keyclient import KeyClient, issue

pytestmark = pytest.mark.django_db
EVENTS = "/promotions/api/v1/events/"
READ = "/promotions/api/v1/recommendations/"


@pytest.fixture(autouse=True)
def fresh():
    cache.clear()
    forget_all()
    yield
    forget_all()
    cache.clear()


def view_batch(n=1):
    return {"events": [{"id": uuid.uuid4().hex, "type": "view", "visitor": "v1", "product": "P1"} for _ in range(n)]}


def test_a_key_is_stored_hashed_and_found_only_with_its_secret():
    key, text = issue(["read"])
    prefix, secret = text.split(".", 1)
    assert prefix == key.prefix and re.fullmatch(r"pk_[0-9a-f]{12}", prefix) and len(secret) >= 40
    stored = ApiKey.objects.get()
    assert secret not in stored.secret_hash and stored.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert find_key(text) == key
    assert find_key(f"{prefix}.{secret[:-1]}x") is None
    assert find_key(secret) is None and find_key("") is None


@pytest.mark.parametrize(
    "header",
    [None, "Bearer pk_000000000000.nope", "Token abc", "Bearer ", "Basic dXNlcjpwYXNz"],
)
def test_no_or_a_wrong_key_is_a_401_and_nothing_is_stored(header):
    client = Client()
    headers = {"Authorization": header} if header else {}
    response = client.post(EVENTS, view_batch(), content_type="application/json", headers=headers)
    assert response.status_code == 401, response.content
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert "detail" in response.json()
    assert Event.objects.count() == 0


def test_a_revoked_key_is_refused_at_once_and_stores_nothing():
    key, text = issue()
    client = KeyClient(text)
    assert client.post(EVENTS, view_batch()).status_code == 202
    key.revoke()
    response = client.post(EVENTS, view_batch())
    assert response.status_code == 401 and response.json()["detail"] == "Unknown or revoked API key."
    assert client.get(READ, {"visitor": "v1"}).status_code == 401
    assert Event.objects.count() == 1


def test_a_key_without_the_scope_gets_403_and_stores_nothing():
    _key, text = issue(["read"])
    client = KeyClient(text)
    response = client.post(EVENTS, view_batch())
    assert response.status_code == 403 and "scope" in response.json()["detail"]
    assert Event.objects.count() == 0
    assert client.post("/promotions/api/v1/baskets/price/", {"lines": []}).status_code == 403
    _key, events_only = issue(["events"])
    assert KeyClient(events_only).get(READ, {"visitor": "v1"}).status_code == 403
    _key, pricing_only = issue(["baskets"])  # a key in a browser page: it prices, never redeems
    for path in ("/promotions/api/v1/baskets/redeem/", "/promotions/api/v1/baskets/refund/"):
        assert KeyClient(pricing_only).post(path, {"order": "A-1"}).status_code == 403


def test_each_key_has_its_own_rate_limit():
    _key, slow = issue(["events"], rate="3/min")
    _key, other = issue(["events"], rate="3/min")
    client = KeyClient(slow)
    assert [client.post(EVENTS, view_batch()).status_code for _ in range(3)] == [202, 202, 202]
    refused = client.post(EVENTS, view_batch())
    assert refused.status_code == 429 and int(refused["Retry-After"]) >= 1
    assert Event.objects.count() == 3  # the refused batch is not stored
    assert KeyClient(other).post(EVENTS, view_batch()).status_code == 202


def test_last_used_time_the_access_log_and_the_key_on_every_event(caplog):
    key, text = issue(["events"])
    assert key.last_used_at is None
    with caplog.at_level("INFO", logger="promotions.api.access"):
        KeyClient(text).post(EVENTS, view_batch(2))
        KeyClient(None).post(EVENTS, view_batch(1))
    assert [record.getMessage() for record in caplog.records if record.name == "promotions.api.access"] == [
        f"api key={key.prefix} POST {EVENTS} 202",
        f"api key=- POST {EVENTS} 401",
    ]
    key.refresh_from_db()
    assert key.last_used_at is not None
    assert {event.context["api_key"] for event in Event.objects.all()} == {key.prefix}


def test_admin_creates_a_key_shown_once_and_revokes_it():
    admin = get_user_model().objects.create_superuser("boss", "boss@example.com", "pw-123456789")
    client = Client()
    client.force_login(admin)
    response = client.post(
        "/admin/promotions/apikey/add/",
        {"name": "Next.js storefront", "can_read": "on", "rate": "120/min"},
        follow=True,
    )
    assert response.status_code == 200
    shown = re.findall(r"pk_[0-9a-f]{12}\.[A-Za-z0-9_-]+", response.content.decode())
    assert len(shown) == 1
    key = ApiKey.objects.get()
    assert key.scopes == ["read"] and key.created_by == admin and key.rate == "120/min"
    assert find_key(shown[0]) == key
    # Never shown again: not on the change page, not in the list.
    for page in (f"/admin/promotions/apikey/{key.pk}/change/", "/admin/promotions/apikey/"):
        assert shown[0].split(".")[1] not in client.get(page).content.decode()
    assert (
        client.post("/admin/promotions/apikey/add/", {"name": "bad", "rate": "lots"})
        .context["adminform"]
        .form.errors["rate"]
    )
    response = client.post(
        "/admin/promotions/apikey/", {"action": "revoke_keys", "_selected_action": [key.pk]}, follow=True
    )
    assert "1 key revoked." in response.content.decode()
    assert find_key(shown[0]) is None and ApiKey.objects.get().revoked_at is not None


def test_a_staff_members_keys_are_exported_and_keep_working_after_erasure():
    from promotions.tracking import privacy

    staff = get_user_model().objects.create_user("ops", password="pw-123456789", is_staff=True)
    key, text = issue(["read"])
    ApiKey.objects.filter(pk=key.pk).update(created_by=staff)
    person = privacy.find_person(user=staff.pk)
    assert privacy.export_person(person)["sections"]["api_keys"] == [
        {"name": "storefront", "prefix": key.prefix, "created_at": key.created_at.isoformat()}
    ]
    privacy.erase_person(person)
    assert ApiKey.objects.get().created_by is None and find_key(text) is not None
