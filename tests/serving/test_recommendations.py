"""Serving recommendations: session reaction, precomputed lists, trending, merchandising, fallbacks."""

import time
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.test import override_settings
from django.utils import timezone

from promotions.offers.models import SlotRule
from promotions.recommenders import Reason
from promotions.serving.reasons import reason_text
from promotions.serving.recommendations import recommendations_for, similar_to
from promotions.tracking.capture import make_event
from promotions.tracking.models import Event
from promotions.tracking.privacy import visitor_cache_key
from promotions.training.models import RECOMMENDATIONS_CACHE_NAME
from promotions.visitors import recent
from shop_demo.models import Product
from tests.offers.conftest import visitor_request

pytestmark = pytest.mark.django_db


def viewing(visitor_id: str, *items: str):
    """A request of this visitor whose page views of ``items`` are pending, as on a product page."""
    request = visitor_request(visitor_id=visitor_id)
    for item in items:
        request.promotions.events.append(make_event(request, "view", item_id=item))
    return request


def ids(picks):
    return [pick.card.id for pick in picks]


def test_recommendations_react_to_the_current_session_without_retraining(active_model):
    on_lanterns = recommendations_for(viewing("a" * 32, "L1"), 3)
    assert set(ids(on_lanterns)) <= {"L2", "L3", "L4"} and on_lanterns
    assert on_lanterns[0].reason.item_id == "L1" and "L1" in reason_text(on_lanterns[0].reason)
    # The visitor moves on to candles: once those views are written, the next page follows them.
    recent.remember("a" * 32, viewing("a" * 32, "C1", "C2").promotions.events)
    next_page = recommendations_for(visitor_request(visitor_id="a" * 32), 3)
    assert ids(next_page)[0].startswith("C")


def test_a_visitor_without_history_gets_trending_items(active_model):
    picks = recommendations_for(visitor_request(visitor_id="b" * 32), 4)
    assert ids(picks)[:4] and all(item.startswith("L") for item in ids(picks)[:2])  # lanterns are most popular
    assert ids(recommendations_for(visitor_request(allowed=False), 4)) == ids(picks)


def test_a_fresh_precomputed_list_is_used_and_a_stale_one_is_not(active_model):
    key = visitor_cache_key("c" * 32, RECOMMENDATIONS_CACHE_NAME)
    precomputed = ["featured", None, None]
    listed = [{"item_id": "M4", "score": 9.0, "reason": precomputed}] * 1 + [
        {"item_id": code, "score": 1.0, "reason": precomputed} for code in ("M1", "M2", "M3")
    ]
    cache.set(key, {"version": active_model.pk, "at": time.time(), "items": listed * 8})
    assert recommendations_for(visitor_request(visitor_id="c" * 32), 2)[0].reason == Reason("featured")
    # A view newer than the list: it is computed again from the session.
    picks = recommendations_for(viewing("c" * 32, "L1"), 2)
    assert picks[0].reason != Reason("featured") and ids(picks)[0].startswith("L")
    # A list from another model version is never served.
    cache.set(key, {"version": active_model.pk + 1, "at": time.time() + 60, "items": listed * 8})
    assert recommendations_for(visitor_request(visitor_id="c" * 32), 2)[0].reason != Reason("featured")
    # Nor one written before reasons were data (a reason as text): the visitor is scored again.
    old = [{"item_id": "M4", "score": 9.0, "reason": "precomputed", "reason_item": None}] * 8
    cache.set(key, {"version": active_model.pk, "at": time.time() + 60, "items": old})
    assert recommendations_for(visitor_request(visitor_id="c" * 32), 2)[0].reason != Reason("featured")


def test_unavailable_and_banned_products_are_never_shown_and_pins_come_first(active_model):
    Product.objects.filter(stock_code="L2").update(in_stock=False)
    SlotRule.objects.create(slot="*", action=SlotRule.Action.BAN, scope=SlotRule.Scope.PRODUCT, value="L3")
    SlotRule.objects.create(slot="home", action=SlotRule.Action.PIN, scope=SlotRule.Scope.PRODUCT, value="M4")
    SlotRule.objects.create(slot="cart", action=SlotRule.Action.BAN, scope=SlotRule.Scope.CATEGORY, value="Lanterns")
    home = ids(recommendations_for(viewing("d" * 32, "L1"), 6, slot="home"))
    assert home[0] == "M4" and "L2" not in home and "L3" not in home and "L4" in home
    cart = ids(recommendations_for(viewing("d" * 32, "L1"), 6, slot="cart"))
    assert not [item for item in cart if item.startswith("L")] and "M4" not in cart
    assert "L3" not in ids(similar_to(visitor_request(), "L1", 6))


def test_without_a_model_best_sellers_are_served(catalogue):
    for n, item in enumerate(["M1", "M1", "M1", "C2", "C2", "L4"]):
        Event.objects.create(
            event_type="purchase",
            visitor_id=f"x{n}",
            item_id=item,
            occurred_at=timezone.now() - timedelta(days=1),
            idempotency_key=f"k{n}",
        )
    assert ids(recommendations_for(viewing("e" * 32, "L1"), 3)) == ["M1", "C2", "L4"]


CACHE_DOWN = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
        "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.2, "SOCKET_TIMEOUT": 0.2},
    }
}


def test_with_the_cache_down_recommendations_are_computed_and_served(active_model):
    with override_settings(CACHES=CACHE_DOWN):
        picks = recommendations_for(viewing("f" * 32, "L1"), 3)
    assert picks and ids(picks)[0] in {"L2", "L3", "L4"}


def test_a_small_catalogue_is_read_whole_on_the_first_miss(catalogue, django_assert_max_num_queries):
    from promotions.cards import cards

    with django_assert_max_num_queries(2):  # count + the whole catalogue
        assert set(cards(["L1"])) == {"L1"}
    with django_assert_max_num_queries(0):  # every other card is warm now
        assert len(cards(["C1", "M4", "L2"])) == 3


def _page_writes_after_the_body():
    from promotions.serving.recommendations import LIVE_CACHE_NAME, LIVE_CACHE_SECONDS
    from promotions.tracking.capture import write_pending
    from promotions.visitors.recent import RECENT_CACHE_NAME, RECENT_SECONDS

    request = viewing("e" * 32, "L1")
    request.promotions.cache_writes = {}  # what the tracking middleware sets
    live, recent_key = (visitor_cache_key("e" * 32, name) for name in (LIVE_CACHE_NAME, RECENT_CACHE_NAME))
    picks = recommendations_for(request, 3)
    assert cache.get(live) is None  # nothing written while the page renders
    assert ids(recommendations_for(request, 3)) == ids(picks)  # later tags of the page read the request's copy
    write_pending(request)  # the response is closed: the events, the recent items, the list
    assert cache.get(live)["rows"][0][0] == picks[0].card.id
    assert [entry[0] for entry in cache.get(recent_key)] == ["L1"]
    assert request.promotions.cache_writes == {} and Event.objects.filter(visitor_id="e" * 32).count() == 1
    return live, recent_key, LIVE_CACHE_SECONDS, RECENT_SECONDS


def test_under_the_middleware_a_page_writes_its_entries_after_the_body(active_model):
    _page_writes_after_the_body()


def test_on_redis_the_page_writes_go_in_one_pipeline_readable_by_the_cache_with_their_ttls(active_model, redis_url):
    redis_cache = {"default": {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": redis_url}}
    with override_settings(CACHES=redis_cache):
        live, recent_key, live_seconds, recent_seconds = _page_writes_after_the_body()
        assert 0 < cache.ttl(live) <= live_seconds
        assert live_seconds < cache.ttl(recent_key) <= recent_seconds


def test_a_bare_request_writes_its_list_at_once(active_model):
    from promotions.serving.recommendations import LIVE_CACHE_NAME

    recommendations_for(viewing("f" * 32, "L1"), 3)
    assert cache.get(visitor_cache_key("f" * 32, LIVE_CACHE_NAME)) is not None
