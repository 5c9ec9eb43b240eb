"""The key-authenticated API: reads by person agree with the shop's pages, server-side events are
stored once through the buffer, baskets are priced by the checkout contract."""

import re
import uuid
from decimal import Decimal

import pytest
from django.conf import settings
from django.test import Client, override_settings

from promotions import checkout
from promotions.api.headless import idempotency_key
from promotions.experiments.models import Assignment, Variant
from promotions.offers.models import CouponCode, Promotion, Redemption, SlotConfig
from promotions.tasks import flush_events
from promotions.tracking import buffer
from promotions.tracking.capture import CUSTOM_EVENT_TYPES, register_event_type
from promotions.tracking.models import DeadLetterEvent, Event
from promotions.visitors.holdout import is_held_out
from shop_demo import settings as shop_settings
from shop_demo.consent import ACCEPTED, COOKIE_NAME
from tests.api.conftest import signed_visitor_cookie
from tests.experiments.factories import make_experiment
from tests.offers.conftest import make_promotion
from tests.serving.conftest import active_model, catalogue, fresh  # noqa: F401 - fixtures
from tests.tracking.conftest import BROWSER

from .keyclient import KeyClient, issue

pytestmark = pytest.mark.django_db
NO_HOLDOUT = {**settings.PROMOTIONS, "HOLDOUT_SHARE": 0}
HALF_HOLDOUT = {**settings.PROMOTIONS, "HOLDOUT_SHARE": 0.5}
API = "/promotions/api/v1/"


@pytest.fixture
def api(db):
    _key, text = issue()
    return KeyClient(text)


def send(api, *events):
    return api.post(API + "events/", {"events": [{"id": uuid.uuid4().hex, **event} for event in events]})


@pytest.fixture
def offers(active_model):  # noqa: F811
    candles = make_promotion(
        name="Candles", message="20% off candles", target_kind="categories", target_values=["Candles"],
        value=Decimal(20), priority=10,
    )  # fmt: skip
    lanterns = make_promotion(
        name="Lanterns", message="20% off lanterns", target_kind="categories", target_values=["Lanterns"],
        value=Decimal(20),
    )  # fmt: skip
    return candles, lanterns


# --- Reads -----------------------------------------------------------------------------------


@override_settings(PROMOTIONS=NO_HOLDOUT)
def test_recommendations_for_an_anonymous_history_with_k_exclusions_and_a_category(api, active_model):  # noqa: F811
    response = api.get(API + "recommendations/", {"history": "L1,L2", "k": 3})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["model_version"] == active_model.pk and body["decision"] == "default" and body["personalized"]
    assert re.fullmatch(r"rec-[0-9a-f]{24}", body["recommendation_id"])
    results = body["results"]
    assert 2 <= len(results) <= 3 and {"L1", "L2"}.isdisjoint(r["id"] for r in results)
    assert results[0]["category"] == "Lanterns"
    assert set(results[0]["reason"]) == {"kind", "item", "category", "text"} and results[0]["reason"]["text"]
    assert results[0]["source"] == "model"
    excluded = api.get(API + "recommendations/", {"history": "L1,L2", "k": 3, "exclude": results[0]["id"]}).json()
    assert results[0]["id"] not in [r["id"] for r in excluded["results"]]
    mugs = api.get(API + "recommendations/", {"history": "L1", "k": 3, "category": "mugs"}).json()["results"]
    assert len(mugs) == 3 and {r["category"] for r in mugs} == {"Mugs"}
    one = api.get(API + "recommendations/", {"history": "L1,L2", "k": 1}).json()
    assert [r["id"] for r in one["results"]] == [results[0]["id"]]
    assert one["recommendation_id"] != body["recommendation_id"]


@override_settings(PROMOTIONS=NO_HOLDOUT)
def test_a_visitor_is_served_from_the_events_the_api_sent(api, active_model):  # noqa: F811
    assert send(api, {"type": "view", "visitor": "shop-visitor-1", "product": "C1"}).status_code == 202
    results = api.get(API + "recommendations/", {"visitor": "shop-visitor-1", "k": 2}).json()["results"]
    assert [r["category"] for r in results] == ["Candles", "Candles"] and "C1" not in [r["id"] for r in results]


@pytest.mark.parametrize(
    "params",
    [{}, {"k": 0}, {"k": 51, "visitor": "v"}, {"visitor": "a b"}, {"slot": "nowhere", "visitor": "v"},
     {"user": 999999}, {"history": ",".join(f"X{i}" for i in range(21))}, {"visitor": "v", "color": "red"}],
)  # fmt: skip
def test_a_bad_read_is_a_400_with_field_errors(api, catalogue, params):  # noqa: F811
    response = api.get(API + "recommendations/", params)
    assert response.status_code == 400 and response.json()


def test_similar_items(api, active_model):  # noqa: F811
    body = api.get(API + "similar/", {"item": "L1", "k": 3}).json()
    assert body["item"] == "L1" and len(body["results"]) == 3 and "L1" not in [r["id"] for r in body["results"]]
    assert api.get(API + "similar/", {"item": "NOPE"}).status_code == 400


def page_promotions(visitor_id: str) -> list[int]:
    """The promotions the demo's home page shows this visitor (its cookie, with consent)."""
    client = Client(HTTP_USER_AGENT=BROWSER)
    client.cookies[COOKIE_NAME] = ACCEPTED
    client.cookies[settings.PROMOTIONS.get("VISITOR_COOKIE_NAME", "promotions_vid")] = signed_visitor_cookie(visitor_id)
    html = client.get("/").content.decode()
    return [int(pk) for pk in re.findall(r'data-promotions-kind="promotion" data-promotions-promotion="(\d+)"', html)]


def api_promotions(api, **person) -> dict:
    response = api.get(API + "promotions/", {"slot": "home", "limit": 3, **person})
    assert response.status_code == 200, response.content
    return response.json()


@override_settings(PROMOTIONS=NO_HOLDOUT)
def test_the_api_and_the_page_agree_on_a_persons_experiment_variant_and_promotions(api, offers):
    candles, lanterns = offers
    experiment = make_experiment("home-test")
    Variant.objects.filter(experiment=experiment, is_control=True).update(config={"personalized": False})
    SlotConfig.objects.create(slot="home", experiment=experiment)
    seen = set()
    for index in range(12):
        visitor = uuid.uuid4().hex
        send(api, {"type": "view", "visitor": visitor, "product": "L1"})  # a lantern fan
        if index % 2:  # the page assigns first, then the API reads
            page = page_promotions(visitor)
            answer = api_promotions(api, visitor=visitor)
        else:
            answer = api_promotions(api, visitor=visitor)
            page = page_promotions(visitor)
        assignment = Assignment.objects.get(unit_id=f"visitor:{visitor}", experiment=experiment)
        assert answer["decision"] == "experiment"
        assert answer["variant"] == {"experiment": "home-test", "variant": assignment.variant.key}
        assert [item["id"] for item in answer["results"]] == page
        personalized = assignment.variant.key != "control"
        assert answer["personalized"] is personalized
        if not personalized:  # the control: by priority, as every visitor gets them
            assert page == [candles.pk, lanterns.pk]
        seen.add(assignment.variant.key)
    assert seen == {"control", "v1"}
    assert Assignment.objects.count() == 12  # one unit per person, whoever asked first


@override_settings(PROMOTIONS=HALF_HOLDOUT)
def test_the_api_applies_the_holdout_by_the_pages_unit(api, offers):
    held = set()
    for _ in range(16):
        visitor = uuid.uuid4().hex
        send(api, {"type": "view", "visitor": visitor, "product": "L1"})
        answer = api_promotions(api, visitor=visitor)
        assert (answer["decision"] == "holdout") is is_held_out(visitor)
        assert [item["id"] for item in answer["results"]] == page_promotions(visitor)
        held.add(answer["decision"])
    assert held == {"holdout", "default"}


@override_settings(PROMOTIONS=NO_HOLDOUT)
def test_a_users_promotions_are_ranked_by_their_interest_with_reasons(api, offers, django_user_model):
    user = django_user_model.objects.create_user("ann", password="pw-123456789")
    send(api, {"type": "view", "user": user.pk, "product": "L2"})
    answer = api_promotions(api, user=user.pk)
    assert [item["message"] for item in answer["results"]][:1] == ["20% off lanterns"]
    first = answer["results"][0]
    assert first["personalized"] and first["reason"]["kind"] and first["reason"]["text"]
    assert answer["decision"] == "default"
    assert {p["category"] for p in first["products"]} == {"Lanterns"}


# --- Events ----------------------------------------------------------------------------------


@pytest.fixture
def custom_type():
    register_event_type("wishlist")
    yield "wishlist"
    CUSTOM_EVENT_TYPES.discard("wishlist")


def every_kind(visitor="srv-1"):
    return [
        {"type": "view", "visitor": visitor, "product": "L1", "recommendation_id": "rec-1", "slot": "home"},
        {"type": "search", "visitor": visitor, "query": "lantern", "result_count": 4},
        {"type": "add_to_cart", "visitor": visitor, "product": "L1", "quantity": 2, "price": "10.00"},
        {"type": "remove_from_cart", "visitor": visitor, "product": "L1", "quantity": 1},
        {"type": "purchase", "visitor": visitor, "order": "A-1", "lines": [
            {"product": "L1", "quantity": 1, "price": "9.50"}, {"product": "C2", "quantity": 3, "price": "2.00"}]},
        {"type": "rating", "visitor": visitor, "product": "L1", "rating": 5},
        {"type": "wishlist", "visitor": visitor, "product": "C1", "occurred_at": "2026-01-02T03:04:05Z"},
    ]  # fmt: skip


def test_every_kind_of_event_is_stored_once_with_its_fields_and_key(api, catalogue, custom_type):  # noqa: F811
    payload = {"events": [{"id": f"e{index}", **event} for index, event in enumerate(every_kind())]}
    response = api.post(API + "events/", payload)
    assert response.status_code == 202 and response.json() == {"accepted": 8, "rejected": []}
    assert api.post(API + "events/", payload).status_code == 202  # re-sent: stored once
    assert Event.objects.count() == 8
    purchases = Event.objects.filter(event_type="purchase").order_by("item_id")
    assert [(e.item_id, e.quantity, e.unit_price, e.context["order"]) for e in purchases] == [
        ("C2", 3, Decimal("2.0000"), "A-1"),
        ("L1", 1, Decimal("9.5000"), "A-1"),
    ]
    view = Event.objects.get(event_type="view")
    assert view.context["recommendation_id"] == "rec-1" and view.context["source"] == "api"
    assert view.idempotency_key == idempotency_key("e0") and view.product.stock_code == "L1"
    assert Event.objects.get(event_type="search").query == "lantern"
    assert Event.objects.get(event_type="rating").rating == 5
    assert Event.objects.get(event_type="wishlist").occurred_at.year == 2026
    assert {e.visitor_id for e in Event.objects.all()} == {"srv-1"}


def test_a_users_events_carry_the_user(api, catalogue, django_user_model):  # noqa: F811
    user = django_user_model.objects.create_user("bo", password="pw-123456789")
    send(api, {"type": "view", "user": user.pk, "product": "L1"}, {"type": "view", "user": 10**9, "product": "L2"})
    stored = {e.item_id: e for e in Event.objects.all()}
    assert stored["L1"].user == user and stored["L1"].visitor_id == f"u:{user.pk}"
    assert stored["L2"].user is None  # an unknown account: the event is kept without it


def test_a_bad_event_never_stops_the_others(api, catalogue):  # noqa: F811
    good = {"id": "g1", "type": "view", "visitor": "v1", "product": "L1"}
    bad = [
        {"id": "b1", "type": "view", "visitor": "v1"},  # no product
        {"id": "b2", "type": "campaign_click", "visitor": "v1"},  # the app's own type (its signed links)
        {"id": "b3", "type": "view", "product": "L1"},  # nobody
        {"id": "b4", "type": "rating", "visitor": "v1", "product": "L1", "rating": 9},
        {"id": "b5", "type": "view", "visitor": "v1", "product": "L1", "occurred_at": "2999-01-01T00:00:00Z"},
        {"id": "b 6", "type": "view", "visitor": "v1", "product": "L1"},
        {"id": "b7", "type": "view", "visitor": "v1", "product": "L1", "secret": "x"},
        "not an object",
    ]
    response = api.post(API + "events/", {"events": [bad[0], good, *bad[1:]]})
    assert response.status_code == 202
    body = response.json()
    assert body["accepted"] == 1 and [r["index"] for r in body["rejected"]] == [0, 2, 3, 4, 5, 6, 7, 8]
    required = {"product": ["This field is required for view events."]}
    assert body["rejected"][0] == {"index": 0, "id": "b1", "errors": required}
    assert list(Event.objects.values_list("idempotency_key", flat=True)) == [idempotency_key("g1")]
    only_bad = api.post(API + "events/", {"events": bad[:2]})
    assert only_bad.status_code == 400 and only_bad.json()["accepted"] == 0


@pytest.mark.parametrize(
    "body", ["{", "[]", '{"events": []}', '{"events": {}}', '{"events": [], "more": 1}', "null",
             '{"events": [' + ",".join(['{"id": "x"}'] * 501) + "]}", "[" * 5000 + "]" * 5000],
)  # fmt: skip
def test_a_malformed_batch_is_a_400_and_nothing_is_stored(api, body):
    response = api.post(API + "events/", body)
    assert response.status_code == 400 and response.json()
    assert Event.objects.count() == 0


def test_events_go_through_the_redis_buffer_and_are_stored_once(api, catalogue, redis_url):  # noqa: F811
    with override_settings(PROMOTIONS={**shop_settings.PROMOTIONS, "REDIS_URL": redis_url}):
        buffer._redis_down_until = 0.0
        view = {"id": "r1", "type": "view", "visitor": "v9", "product": "L1"}
        payload = {"events": [view, {**view, "id": "r2", "type": "add_to_cart", "quantity": 1}]}
        assert api.post(API + "events/", payload).status_code == 202
        assert Event.objects.count() == 0 and buffer.backlog() == 2
        assert api.post(API + "events/", payload).status_code == 202  # a retry after a lost answer
        flush_events()
        assert Event.objects.count() == 2 and buffer.backlog() == 0 and not DeadLetterEvent.objects.exists()


# --- Baskets ---------------------------------------------------------------------------------


@pytest.fixture
def coupon(catalogue):  # noqa: F811
    promotion = make_promotion(
        name="Lanterns 20%", message="20% off lanterns", target_kind="categories", target_values=["Lanterns"],
        value=Decimal(20), coupon_required=True,
    )  # fmt: skip
    CouponCode.objects.create(promotion=promotion, code="GLOW", single_use=True)
    make_promotion(name="Five off", message="5% off", value=Decimal(5))
    return promotion


def basket(**extra):
    return {"visitor": "v5", "lines": [{"product": "L1", "quantity": 2}, {"product": "M1", "quantity": 1,
            "price": "4.00"}], "codes": ["glow "], "shipping": "3.50", **extra}  # fmt: skip


def test_the_api_prices_a_basket_as_the_checkout_contract_does(api, coupon):
    response = api.post(API + "baskets/price/", basket())
    assert response.status_code == 200, response.content
    body = response.json()
    contract = checkout.price_basket(
        checkout.Shopper(visitor_id="v5", tracked=True),
        [checkout.BasketLine("L1", 2), checkout.BasketLine("M1", 1, Decimal("4.00"))],
        codes=["glow "],
        shipping=Decimal("3.50"),
    )
    assert Decimal(body["total"]) == contract.total and Decimal(body["discount"]) == contract.discount
    assert [(a["promotion"], a["code"], Decimal(a["amount"])) for a in body["applied"]] == [
        (a.promotion_id, a.code, a.amount) for a in contract.applied
    ]
    assert [Decimal(line["discount"]) for line in body["lines"]] == [line.discount for line in contract.lines]
    assert checkout.read_quote(body["quote"]) == checkout.read_quote(contract.quote)
    assert body["codes"] == ["GLOW"] and any(a["code"] == "GLOW" for a in body["applied"])


def test_redeem_records_the_quote_for_the_order_once_and_refuses_a_changed_price(api, coupon):
    quote = api.post(API + "baskets/price/", basket()).json()["quote"]
    response = api.post(API + "baskets/redeem/", basket(quote=quote, order="A-100"))
    assert response.status_code == 201, response.content
    redemptions = response.json()["redemptions"]
    assert {r["code"] for r in redemptions} >= {"GLOW"}
    assert Redemption.objects.filter(order_ref="A-100").count() == len(redemptions)
    again = api.post(API + "baskets/redeem/", basket(quote=quote, order="A-100"))
    assert again.status_code == 201 and again.json()["redemptions"] == redemptions
    # The single-use code is spent: another order with the same quote is refused with the new price.
    refused = api.post(API + "baskets/redeem/", basket(quote=quote, order="A-101"))
    assert refused.status_code == 409 and refused.json()["reason"] == "code_used"
    assert Decimal(refused.json()["basket"]["total"]) > Decimal(
        api.post(API + "baskets/price/", basket(codes=[])).json()["total"]
    ) - Decimal("0.01")
    assert Redemption.objects.filter(order_ref="A-101").count() == 0
    refund = api.post(API + "baskets/refund/", {"order": "A-100"})
    assert refund.status_code == 200 and Decimal(refund.json()["returned"]) > 0


def test_a_basket_naming_an_unknown_product_without_a_price_is_a_400(api, coupon):
    response = api.post(API + "baskets/price/", {"lines": [{"product": "NOPE", "quantity": 1}]})
    assert response.status_code == 400 and "NOPE" in str(response.json())
    assert api.post(API + "baskets/price/", {"lines": []}).status_code == 400
    assert Promotion.objects.count() == 2
