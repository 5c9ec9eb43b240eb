"""The beacon endpoint stores a visitor's valid batches once, and nothing from anyone or anything else."""

import json
import uuid

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.test import override_settings
from django.urls import reverse

from promotions.api.serializers import idempotency_key
from promotions.tracking.models import Event
from shop_demo import settings as shop_settings

from .conftest import URL, beacon_client, make_events, post, signed_visitor_cookie

pytestmark = pytest.mark.django_db


def test_url_is_named():
    assert reverse("promotions:events") == URL


def test_valid_batch_is_stored_with_its_fields(beacon, visitor_id):
    events = [
        {"type": "promotion_impression", "id": str(uuid.uuid4()), "promotion": 7, "slot": "home-hero", "page": "/"},
        {
            "type": "recommendation_click",
            "id": str(uuid.uuid4()),
            "product": "85123A",
            "recommendation_id": "rec-42",
            "slot": "also-bought",
            "page": "/product/22423/?utm=secret#top",
        },
        {"type": "dwell", "id": uuid.uuid4().hex, "product": "85123A", "dwell_seconds": 12.5},
    ]
    response = post(beacon, {"events": events})
    assert response.status_code == 202, response.content
    assert response.json() == {"accepted": 3}
    stored = {event.event_type: event for event in Event.objects.all()}
    assert set(stored) == {"promotion_impression", "recommendation_click", "dwell"}
    assert all(event.visitor_id == visitor_id and event.user is None for event in stored.values())
    assert stored["promotion_impression"].promotion_id == 7
    assert stored["promotion_impression"].context == {
        "device": "desktop",
        "source": "beacon",
        "path": "/",
        "slot": "home-hero",
    }
    click = stored["recommendation_click"]
    assert click.item_id == "85123A"
    assert click.context["recommendation_id"] == "rec-42"
    assert click.context["path"] == "/product/22423/"  # query string and fragment are dropped
    assert stored["dwell"].dwell_seconds == 12.5
    assert click.idempotency_key == idempotency_key(visitor_id, uuid.UUID(events[1]["id"]).hex)


def test_a_resent_batch_is_stored_once(beacon):
    payload = {"events": make_events(3)}
    assert post(beacon, payload).status_code == 202
    assert post(beacon, payload).status_code == 202
    assert Event.objects.count() == 3


def test_the_same_client_id_of_two_visitors_is_two_events(beacon):
    payload = {"events": make_events(1)}
    post(beacon, payload)
    post(beacon_client(uuid.uuid4().hex), payload)
    assert Event.objects.count() == 2


def test_signed_in_visitor_events_carry_the_user_without_a_csrf_token(visitor_id):
    user = get_user_model().objects.create_user("alice", password="secret-password-1")
    client = beacon_client(visitor_id, enforce_csrf_checks=True)
    client.force_login(user)
    assert post(client, {"events": make_events(1)}).status_code == 202
    assert Event.objects.get().user == user


def test_endpoint_is_csrf_exempt(visitor_id):
    assert post(beacon_client(visitor_id, enforce_csrf_checks=True), {"events": make_events(1)}).status_code == 202


def test_text_plain_body_is_parsed_as_json(beacon):
    response = post(beacon, json.dumps({"events": make_events(2)}), content_type="text/plain;charset=UTF-8")
    assert response.status_code == 202
    assert Event.objects.count() == 2


# --- rejected batches store nothing ----------------------------------------------------


def assert_refused(response, status=400):
    assert response.status_code == status, response.content
    assert Event.objects.count() == 0
    return response.json()


def test_unknown_event_type_is_a_field_error(beacon):
    errors = assert_refused(post(beacon, {"events": [*make_events(2), *make_events(1, type="purchase")]}))
    assert set(errors["events"]) == {"2"} and "type" in errors["events"]["2"]


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"id": "not-a-uuid"}, "id"),
        ({"promotion": "seven"}, "promotion"),
        ({"promotion": 0}, "promotion"),
        ({"product": "x" * 65}, "product"),
        ({"slot": "<script>"}, "slot"),
        ({"page": "https://evil.example/"}, "page"),
        ({"page": "//evil.example/"}, "page"),
        ({"dwell_seconds": 3.0}, "dwell_seconds"),  # only dwell events carry it
        ({"type": "dwell", "product": "85123A", "dwell_seconds": -1}, "dwell_seconds"),
        ({"type": "dwell", "product": "85123A"}, "dwell_seconds"),
        ({"type": "recommendation_click"}, "product"),
    ],
)
def test_bad_field_values_are_field_errors(beacon, extra, field):
    errors = assert_refused(post(beacon, {"events": [*make_events(1), *make_events(1, **extra)]}))
    assert list(errors["events"]) == ["1"] and field in errors["events"]["1"]


def test_a_missing_promotion_is_a_field_error(beacon):
    event = {"type": "promotion_click", "id": str(uuid.uuid4())}
    errors = assert_refused(post(beacon, {"events": [event]}))
    assert "promotion" in errors["events"]["0"]


def test_too_many_events(beacon):
    errors = assert_refused(post(beacon, {"events": make_events(51)}))
    assert "events" in errors
    with override_settings(PROMOTIONS={**shop_settings.PROMOTIONS, "BEACON_MAX_EVENTS": 2}):
        assert_refused(post(beacon, {"events": make_events(3)}))
        assert post(beacon, {"events": make_events(2)}).status_code == 202


def test_an_empty_batch_is_refused(beacon):
    assert "events" in assert_refused(post(beacon, {"events": []}))
    assert "events" in assert_refused(post(beacon, {}))


def test_oversized_body_is_refused_before_parsing(beacon):
    body = {"events": make_events(50, page="/" + "a" * 199, slot="s" * 64)}  # valid, but too large
    assert len(json.dumps(body)) > 16384
    assert_refused(post(beacon, body), status=413)
    with override_settings(PROMOTIONS={**shop_settings.PROMOTIONS, "BEACON_MAX_BYTES": 100}):
        assert_refused(post(beacon, "{" * 101), status=413)  # not even JSON: never parsed


@pytest.mark.parametrize("body", ["not json", "{", '"events"', "[1, 2]"])
def test_non_json_or_non_object_body_is_refused(beacon, body):
    assert_refused(post(beacon, body, content_type="text/plain"))


def test_form_bodies_are_unsupported(beacon):
    response = beacon.post(URL, {"events": "x"}, headers={"Origin": "http://testserver"})
    assert_refused(response, status=415)


@pytest.mark.parametrize("field", ["visitor", "visitor_id", "user"])
def test_a_payload_naming_a_visitor_is_refused(beacon, field):
    errors = assert_refused(post(beacon, {"events": make_events(1, **{field: uuid.uuid4().hex})}))
    assert field in errors["events"]["0"]
    errors = assert_refused(post(beacon, {"events": make_events(1), field: uuid.uuid4().hex}))
    assert field in errors


# --- who may post ------------------------------------------------------------------------


def test_no_visitor_cookie_is_forbidden():
    client = beacon_client(uuid.uuid4().hex)
    del client.cookies["promotions_vid"]
    assert_refused(post(client, {"events": make_events(1)}), status=403)


def test_forged_visitor_cookie_is_forbidden(visitor_id):
    client = beacon_client(visitor_id)
    client.cookies["promotions_vid"] = signed_visitor_cookie(visitor_id)[:-2] + "xx"
    assert_refused(post(client, {"events": make_events(1)}), status=403)
    client.cookies["promotions_vid"] = uuid.uuid4().hex  # unsigned
    assert_refused(post(client, {"events": make_events(1)}), status=403)


@pytest.mark.parametrize("header", [{"DNT": "1"}, {"Sec-GPC": "1"}, {"User-Agent": "python-requests/2.32"}])
def test_visitors_who_may_not_be_tracked_are_forbidden(beacon, header):
    assert_refused(post(beacon, {"events": make_events(1)}, **header), status=403)


def test_without_consent_is_forbidden(beacon):
    beacon.cookies["shop_consent"] = "no"
    assert_refused(post(beacon, {"events": make_events(1)}), status=403)


@pytest.mark.parametrize("origin", ["https://evil.example", "http://testserver.evil.example", "null"])
def test_foreign_origin_is_forbidden(beacon, origin):
    assert_refused(post(beacon, {"events": make_events(1)}, Origin=origin), status=403)


def test_foreign_origin_wins_over_a_same_origin_referer(beacon):
    response = post(beacon, {"events": make_events(1)}, Origin="https://evil.example", Referer="http://testserver/")
    assert_refused(response, status=403)


def test_referer_is_checked_when_origin_is_absent(beacon):
    payload = {"events": make_events(1)}
    response = beacon.post(URL, payload, content_type="application/json", headers={"Referer": "https://evil.example/"})
    assert_refused(response, status=403)
    assert_refused(beacon.post(URL, payload, content_type="application/json"), status=403)  # neither header
    response = beacon.post(URL, payload, content_type="application/json", headers={"Referer": "http://testserver/p/1/"})
    assert response.status_code == 202


def test_same_origin_and_other_allowed_hosts_are_accepted(beacon):
    assert post(beacon, {"events": make_events(1)}, Origin="http://testserver").status_code == 202
    # Another of ALLOWED_HOSTS on the request's scheme and port (another port is refused: tests/security).
    assert post(beacon, {"events": make_events(1)}, Origin="http://localhost").status_code == 202
    assert Event.objects.count() == 2


def test_a_wildcard_allowed_host_does_not_open_the_endpoint(beacon):
    with override_settings(ALLOWED_HOSTS=["*"]):
        assert_refused(post(beacon, {"events": make_events(1)}, Origin="https://evil.example"), status=403)


def test_throttled_after_the_rate(beacon, visitor_id):
    rates = {"DEFAULT_THROTTLE_RATES": {"promotions_events": "2/min"}}
    with override_settings(REST_FRAMEWORK=rates):
        assert post(beacon, {"events": make_events(1)}).status_code == 202
        assert post(beacon, {"events": make_events(1)}).status_code == 202
        response = post(beacon, {"events": make_events(1)})
        assert response.status_code == 429
        assert post(beacon_client(uuid.uuid4().hex), {"events": make_events(1)}).status_code == 202  # per visitor
    assert Event.objects.count() == 3


def test_fresh_cookies_do_not_lift_the_per_address_limit(beacon):
    rates = {"DEFAULT_THROTTLE_RATES": {"promotions_events": "100/min", "promotions_events_address": "2/min"}}
    cache.clear()  # earlier tests posted from the same address
    with override_settings(REST_FRAMEWORK=rates):
        for expected in (202, 202, 429):
            client = beacon_client(uuid.uuid4().hex)
            assert post(client, {"events": make_events(1)}).status_code == expected
    assert Event.objects.count() == 2


def test_get_is_not_allowed(beacon):
    assert beacon.get(URL, headers={"Origin": "http://testserver"}).status_code == 405


def test_a_request_without_the_middleware_is_forbidden(visitor_id):
    middleware = [m for m in shop_settings.MIDDLEWARE if "TrackingMiddleware" not in m]
    with override_settings(MIDDLEWARE=middleware):
        assert_refused(post(beacon_client(visitor_id), {"events": make_events(1)}), status=403)
