"""Schedule, status, audience, sign-in, cart value, frequency cap, slots, shop rules, budget."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import override_settings
from django.utils import timezone

from promotions.offers.models import Promotion
from promotions.offers.service import Shopper, eligible_promotions, is_eligible
from promotions.tracking.exposures import record_exposure
from promotions.tracking.models import Event
from promotions.tracking.privacy import visitor_cache_key
from promotions.visitors.segments import RETURNING_CACHE_NAME

from .conftest import make_promotion, visitor_request

pytestmark = pytest.mark.django_db


def shopper(returning=False, user_id=None, visitor_id="v" * 32):
    return Shopper(visitor_id=visitor_id, user_id=user_id, returning=returning, tracked=True)


def test_schedule_and_status():
    now = timezone.now()
    live = make_promotion(starts_at=now - timedelta(hours=1), ends_at=now + timedelta(hours=1))
    future = make_promotion(starts_at=now + timedelta(hours=1))
    over = make_promotion(ends_at=now - timedelta(seconds=1))
    paused = make_promotion(status=Promotion.Status.PAUSED)
    draft = make_promotion(status=Promotion.Status.DRAFT)
    shown = {p.pk for p in eligible_promotions(visitor_request())}
    assert shown == {live.pk}
    assert not {future.pk, over.pk, paused.pk, draft.pk} & shown


def test_audience_new_or_returning_and_signed_in_only():
    new_only = make_promotion(audience=Promotion.Audience.NEW)
    returning_only = make_promotion(audience=Promotion.Audience.RETURNING)
    members = make_promotion(signed_in_only=True)
    assert is_eligible(new_only, shopper(returning=False)) and not is_eligible(new_only, shopper(returning=True))
    assert is_eligible(returning_only, shopper(returning=True)) and not is_eligible(returning_only, shopper())
    assert not is_eligible(members, shopper()) and is_eligible(members, shopper(user_id=7))


def test_returning_is_read_from_an_earlier_visit():
    cache.clear()
    request = visitor_request(visitor_id="b" * 32)
    assert Shopper.from_request(request).returning is False
    Event.objects.create(
        event_type="view", visitor_id="b" * 32, occurred_at=timezone.now() - timedelta(hours=2), idempotency_key="k1"
    )
    # "New" is remembered for a few minutes (no query per page), then asked again.
    assert Shopper.from_request(visitor_request(visitor_id="b" * 32)).returning is False
    cache.delete(visitor_cache_key("b" * 32, RETURNING_CACHE_NAME))
    assert Shopper.from_request(visitor_request(visitor_id="b" * 32)).returning is True
    Event.objects.all().delete()  # once returning, always returning, without asking the database
    assert Shopper.from_request(visitor_request(visitor_id="b" * 32)).returning is True


def test_minimum_cart_value_is_checked_against_the_cart():
    promotion = make_promotion(min_cart_value=Decimal("50.00"))
    assert not is_eligible(promotion, shopper(), cart_value=Decimal("49.99"))
    assert is_eligible(promotion, shopper(), cart_value=Decimal("50.00"))
    assert is_eligible(promotion, shopper())  # shown outside the cart, as an incentive


def test_frequency_cap_hides_after_n_exposures_today_but_still_applies_at_checkout():
    cache.clear()
    promotion = make_promotion(frequency_cap=2)
    request = visitor_request(visitor_id="c" * 32)
    for _ in range(2):
        assert is_eligible(promotion, shopper(visitor_id="c" * 32))
        record_exposure(request, "promotion", promotion.pk)
    assert not is_eligible(promotion, shopper(visitor_id="c" * 32))
    assert is_eligible(promotion, shopper(visitor_id="c" * 32), for_display=False)


def test_a_page_reads_every_frequency_count_with_the_visitors_other_entries_in_one_round_trip(monkeypatch):
    cache.clear()
    capped = [make_promotion(frequency_cap=1), make_promotion(frequency_cap=3)]
    record_exposure(visitor_request(visitor_id="d" * 32), "promotion", capped[0].pk)
    reads = []
    for name in ("get", "get_many"):
        real = getattr(cache, name)
        monkeypatch.setattr(cache, name, lambda *a, _real=real, _name=name, **k: reads.append(_name) or _real(*a, **k))
    request = visitor_request(visitor_id="d" * 32)
    cache.set(visitor_cache_key("d" * 32, RETURNING_CACHE_NAME), 1)
    reads.clear()
    shown = {p.pk for p in eligible_promotions(request, slot="home")}
    assert shown == {capped[1].pk}  # the first one was seen its once today
    assert {p.pk for p in eligible_promotions(request, slot="cart")} == shown
    assert reads == ["get_many"]


def test_slots_limit_where_a_promotion_appears():
    cart_only = make_promotion(slots=["cart"])
    anywhere = make_promotion()
    assert {p.pk for p in eligible_promotions(visitor_request(), slot="home")} == {anywhere.pk}
    assert {p.pk for p in eligible_promotions(visitor_request(), slot="cart")} == {cart_only.pk, anywhere.pk}


def weekend_only(request, promotion):
    return request.GET.get("weekend") == "1"


@override_settings(
    PROMOTIONS={**settings.PROMOTIONS, "ELIGIBILITY_RULES": {"weekend": "tests.offers.test_eligibility.weekend_only"}}
)
def test_shop_registered_rules_and_unknown_rule_names():
    ruled = make_promotion(rules=["weekend"])
    unknown = make_promotion(rules=["removed-rule"])
    request = visitor_request()
    assert not is_eligible(ruled, shopper(), request)
    request.GET = request.GET.copy()
    request.GET["weekend"] = "1"
    assert is_eligible(ruled, shopper(), request)
    assert not is_eligible(unknown, shopper(), request)


def test_a_spent_budget_or_redemption_limit_makes_a_promotion_ineligible():
    spent = make_promotion(max_discount_total=Decimal("10.00"))
    Promotion.objects.filter(pk=spent.pk).update(discount_spent=Decimal("10.00"))
    used_up = make_promotion(max_redemptions=3)
    Promotion.objects.filter(pk=used_up.pk).update(redemptions_count=3)
    spent.refresh_from_db()
    used_up.refresh_from_db()
    assert not is_eligible(spent, shopper()) and not is_eligible(used_up, shopper())


def test_the_message_follows_the_page_language():
    from django.utils import translation

    promotion = make_promotion(message="20% off candles", message_zh_hans="蜡烛八折")
    with translation.override("zh-hans"):
        assert promotion.localized_message == "蜡烛八折"
    with translation.override("en"):
        assert promotion.localized_message == "20% off candles"
    promotion.message_zh_hans = ""
    with translation.override("zh-hans"):
        assert promotion.localized_message == "20% off candles"


def test_a_visitor_id_younger_than_a_visit_is_new_without_asking_the_database(client, django_assert_num_queries):
    import time

    from django.test import RequestFactory

    from promotions.conf import app_settings
    from promotions.visitors import segments
    from promotions.visitors.identity import read_visitor_id, visitor_id_issued_at

    cache.clear()
    client.cookies["shop_consent"] = "yes"
    client.get("/", HTTP_USER_AGENT="Mozilla/5.0")  # the middleware issues the signed cookie
    name = app_settings.VISITOR_COOKIE_NAME
    request = RequestFactory().get("/", HTTP_COOKIE=f"{name}={client.cookies[name].value}")
    visitor_id = read_visitor_id(request)
    assert visitor_id and abs(visitor_id_issued_at(request) - time.time()) < 60  # the signature's own time
    Event.objects.create(  # an event dated before the id existed (a clock or an import): not asked for
        event_type="view", visitor_id=visitor_id, occurred_at=timezone.now() - timedelta(hours=2), idempotency_key="k2"
    )
    fresh = visitor_request(visitor_id=visitor_id)
    fresh.promotions.issued_at = visitor_id_issued_at(request)
    with django_assert_num_queries(0):
        assert segments.is_returning(fresh) is False
    older = visitor_request(visitor_id=visitor_id)
    older.promotions.issued_at = time.time() - 3600  # issued an hour ago: the event log decides
    assert segments.is_returning(older) is True
    assert visitor_id_issued_at(RequestFactory().get("/", HTTP_COOKIE=f"{name}=garbage")) is None
