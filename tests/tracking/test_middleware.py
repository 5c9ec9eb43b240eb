"""Server-side capture: product views and searches, and who is never tracked."""

import pytest
from django.contrib.auth.models import User
from django.test import override_settings
from django.urls import reverse

from promotions import track
from promotions.conf import app_settings
from promotions.tracking import buffer
from promotions.tracking.models import Event, Visitor
from shop_demo import settings as shop_settings


def test_product_view_and_search_are_recorded(browser, product):
    browser.get(reverse("shop:product", args=[product.stock_code]), HTTP_REFERER="http://testserver/search/?q=heart")
    response = browser.get(reverse("shop:search"), {"q": "heart"})
    visitor_id = response.wsgi_request.visitor_id
    view, search = Event.objects.order_by("pk")
    assert (view.event_type, view.item_id, view.product_id, view.visitor_id) == (
        "view",
        "85123A",
        product.pk,
        visitor_id,
    )
    assert view.context == {"path": "/product/85123A/", "device": "desktop", "referrer": "/search/"}
    assert (search.event_type, search.query) == ("search", "heart")


def test_other_pages_and_missing_products_record_nothing(browser, product):
    browser.get(reverse("shop:home"))
    browser.get(reverse("shop:product", args=["NOPE"]))  # 404
    browser.get(reverse("shop:search"))  # no query
    assert Event.objects.count() == 0


@pytest.mark.parametrize(
    "headers",
    [
        {"HTTP_USER_AGENT": "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"},
        {"HTTP_USER_AGENT": "curl/8.5.0"},
        {"HTTP_USER_AGENT": ""},
        {"HTTP_DNT": "1"},
        {"HTTP_SEC_GPC": "1"},
    ],
)
def test_bots_and_opted_out_visitors_get_no_cookie_and_no_events(browser, product, headers):
    response = browser.get(reverse("shop:product", args=[product.stock_code]), **headers)
    assert response.status_code == 200
    assert app_settings.VISITOR_COOKIE_NAME not in response.cookies
    assert response.wsgi_request.visitor_id is None
    assert Event.objects.count() == 0


def test_dnt_can_be_ignored_by_setting(browser, product):
    with override_settings(PROMOTIONS={**shop_settings.PROMOTIONS, "HONOR_DO_NOT_TRACK": False}):
        browser.get(reverse("shop:product", args=[product.stock_code]), HTTP_DNT="1")
    assert Event.objects.count() == 1


def refuse_consent(request):
    return request.COOKIES.get("consent") == "yes"


def test_consent_hook_decides(browser, product):
    with override_settings(
        PROMOTIONS={**shop_settings.PROMOTIONS, "CONSENT_CHECK": "tests.tracking.test_middleware.refuse_consent"}
    ):
        browser.get(reverse("shop:product", args=[product.stock_code]))
        assert Event.objects.count() == 0
        browser.cookies["consent"] = "yes"
        browser.get(reverse("shop:product", args=[product.stock_code]))
        assert Event.objects.count() == 1


def test_admin_and_static_paths_are_ignored(browser, db):
    response = browser.get("/admin/login/")
    assert response.wsgi_request.visitor_id is None


def test_a_storage_failure_never_breaks_the_page(browser, product, monkeypatch):
    def broken(events):
        raise RuntimeError("database is down")

    monkeypatch.setattr(buffer, "insert_rows", broken)
    before = buffer.failures["database"]
    response = browser.get(reverse("shop:product", args=[product.stock_code]))
    assert response.status_code == 200
    assert buffer.failures["database"] == before + 1


def test_history_follows_the_visitor_through_login(browser, product):
    first = browser.get(reverse("shop:product", args=[product.stock_code]))
    visitor_id = first.wsgi_request.visitor_id
    user = User.objects.create_user("ann", password="pw-ann-12345")
    browser.force_login(user)
    # Client.force_login does not run middleware; the shop's own login view does, so do what it does.
    from django.contrib.auth.signals import user_logged_in

    request = first.wsgi_request
    user_logged_in.send(sender=User, request=request, user=user)
    second = browser.get(reverse("shop:product", args=[product.stock_code]))
    assert second.wsgi_request.visitor_id == visitor_id
    assert Visitor.objects.get(key=visitor_id).user == user
    before, after = Event.objects.order_by("pk")
    assert before.user is None and after.user == user
    person_events = Event.objects.filter(visitor_id__in=user.promotions_visitors.values("key"))
    assert person_events.count() == 2


def test_track_helper_and_unknown_types(rf, product, db):
    from promotions.tracking.capture import TrackingState

    request = rf.get("/")
    request.promotions = TrackingState(allowed=True, visitor_id="a" * 32)
    from django.contrib.auth.models import AnonymousUser

    request.user = AnonymousUser()
    assert track(request, "purchase", product=product, quantity=4, value=10)
    (event,) = request.promotions.events
    assert (event["item_id"], event["quantity"], str(event["unit_price"])) == ("85123A", 4, "2.5000")
    with pytest.raises(ValueError, match="Unknown event type"):
        track(request, "purchace", product=product)
    request.promotions = TrackingState(allowed=False, visitor_id=None)
    assert not track(request, "purchase", product=product)
