"""The demo shop feeds the event log through the public helpers and signals, behind its consent banner."""

from decimal import Decimal

from django.contrib.auth.models import User
from django.urls import reverse

from promotions.tracking.models import Event, Visitor

GOOD_CARD = "4242 4242 4242 4242"


def test_cart_checkout_search_and_rating_events(browser, product):
    browser.get(reverse("shop:search"), {"q": "heart"})
    browser.post(reverse("shop:cart_add", args=[product.stock_code]), {"quantity": 3})
    browser.post(
        reverse("shop:checkout"),
        {"email": "ann@example.com", "shipping_address": "1 High St", "card_number": GOOD_CARD},
    )
    events = {event.event_type: event for event in Event.objects.all()}
    assert events["search"].query == "heart" and events["search"].result_count == 1
    assert events["add_to_cart"].quantity == 3
    purchase = events["purchase"]
    assert (purchase.item_id, purchase.quantity, purchase.unit_price) == ("85123A", 3, Decimal("2.55"))
    assert purchase.revenue == Decimal("7.65")
    assert purchase.context["order"]


def test_remove_from_cart_records_the_quantity_removed(browser, product):
    browser.post(reverse("shop:cart_add", args=[product.stock_code]), {"quantity": 2})
    browser.post(reverse("shop:cart_remove", args=[product.stock_code]))
    assert Event.objects.get(event_type="remove_from_cart").quantity == 2


def test_rating_and_review_and_login_through_the_shop(browser, product):
    first = browser.get(reverse("shop:home"))
    User.objects.create_user("ann", password="a-Long-enough-passw0rd")
    browser.post(reverse("shop:login"), {"username": "ann", "password": "a-Long-enough-passw0rd"})
    assert Visitor.objects.get(key=first.wsgi_request.visitor_id).user.username == "ann"
    browser.post(reverse("shop:review", args=[product.stock_code]), {"rating": 4, "text": "Lovely"})
    assert Event.objects.get(event_type="rating").rating == 4
    assert Event.objects.get(event_type="review").review_text == "Lovely"
    assert Event.objects.filter(user__username="ann").count() == 2


def test_nothing_is_tracked_before_the_consent_banner_is_accepted(browser, product):
    del browser.cookies["shop_consent"]
    browser.get(reverse("shop:product", args=[product.stock_code]))
    assert Event.objects.count() == 0
    browser.post(reverse("shop:consent"), {"answer": "yes", "next": "/"})
    browser.get(reverse("shop:product", args=[product.stock_code]))
    assert Event.objects.count() == 1
