"""CSRF: the beacon is the one state-changing view without it, and every other POST is refused without a token."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import URLResolver, get_resolver, reverse

from promotions.api.authentication import ApiKeyAuthentication
from promotions.tracking.models import Event
from shop_demo.cart import SESSION_KEY
from shop_demo.models import Category, Order, Product
from tests.shop.conftest import GOOD_CARD, PASSWORD

SAFE_METHODS = {"get", "head", "options"}
# Sample values for the shop's URL parameters.
KWARGS = {"stock_code": "MUG1", "slug": "kitchen", "pk": 1}


def walk(patterns, namespace: str = ""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from walk(pattern.url_patterns, inner)
        else:
            yield namespace, pattern


def allowed_methods(callback) -> set[str]:
    view_class = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
    return {method for method in view_class.http_method_names if hasattr(view_class, method)}


def key_authenticated_only(callback) -> bool:
    """Whether the view accepts an API key in a header and nothing else: a forged cross-site request
    carries the browser's cookies, never that header, so it cannot act with anyone's rights."""
    view_class = getattr(callback, "cls", None)
    classes = getattr(view_class, "authentication_classes", None) or []
    return bool(classes) and all(issubclass(auth, ApiKeyAuthentication) for auth in classes)


def test_only_the_beacon_and_key_authenticated_api_are_csrf_exempt_among_state_changing_views():
    exempt = {
        f"{namespace}{pattern.name}": pattern.callback
        for namespace, pattern in walk(get_resolver().url_patterns)
        if getattr(pattern.callback, "csrf_exempt", False)
    }
    assert "promotions:events" in exempt  # defended by origin, signed cookie and throttles instead
    key_views = {name for name, callback in exempt.items() if key_authenticated_only(callback)}
    assert {"promotions:api-events", "promotions:api-basket-redeem"} <= key_views
    for name, callback in exempt.items():
        if name != "promotions:events" and name not in key_views:
            assert allowed_methods(callback) <= SAFE_METHODS, f"{name} changes state without CSRF protection"


def test_a_key_authenticated_post_with_the_shops_cookies_but_no_key_is_refused(shop):
    """A cross-site form post carries the signed-in shopper's cookies, not a key: 401, nothing stored."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(shop)
    response = client.post(
        reverse("promotions:api-events"),
        data='{"events": [{"event_type": "view", "item_id": "MUG1", "visitor_id": "v1"}]}',
        content_type="application/json",
    )
    assert response.status_code == 401
    assert not Event.objects.exists()


@pytest.fixture
def shop(db):
    kitchen = Category.objects.create(name="Kitchen", slug="kitchen")
    Product.objects.create(stock_code="MUG1", title="Mug", price=Decimal("3.50"), category=kitchen)
    return get_user_model().objects.create_user("alice", "alice@example.com", PASSWORD)


def shop_urls() -> list[str]:
    urls = []
    for namespace, pattern in walk(get_resolver().url_patterns):
        if namespace == "shop:":
            kwargs = {key: KWARGS[key] for key in pattern.pattern.converters}
            urls.append(reverse(f"shop:{pattern.name}", kwargs=kwargs))
    return urls


def test_every_shop_post_without_a_token_is_refused_and_changes_nothing(shop):
    client = Client(enforce_csrf_checks=True)
    client.force_login(shop)
    # A cart to check out, put there through the session (the form itself needs the token).
    session = client.session
    session[SESSION_KEY] = {"MUG1": 1}
    session.save()
    forms = {
        "quantity": "1",
        "rating": "5",
        "text": "great",
        "code": "SAVE10",
        "name": "Alice",
        "email": "alice@example.com",
        "address": "1 Street",
        "card_number": GOOD_CARD,
        "username": "mallory",
        "password1": PASSWORD,
        "password2": PASSWORD,
        "password": PASSWORD,
        "answer": "yes",
    }
    users, orders = get_user_model().objects.count(), Order.objects.count()
    urls = shop_urls()
    assert len(urls) >= 17
    for url in urls:
        response = client.post(url, forms)
        assert response.status_code in {403, 405}, (url, response.status_code)
    assert get_user_model().objects.count() == users and Order.objects.count() == orders
    assert "shop_consent" not in client.cookies
    assert client.get(reverse("shop:orders")).status_code == 200  # still signed in: logout was refused too


def test_with_the_token_the_same_post_goes_through(shop):
    client = Client(enforce_csrf_checks=True)
    client.get(reverse("shop:home"))  # the page with the consent form sets the CSRF cookie
    token = client.cookies["csrftoken"].value
    response = client.post(reverse("shop:consent"), {"answer": "yes", "csrfmiddlewaretoken": token})
    assert response.status_code == 302 and client.cookies["shop_consent"].value == "yes"


@pytest.mark.parametrize(
    "url, data",
    [
        ("admin:promotions_experiment_changelist", {"action": "start_experiments", "_selected_action": ["1"]}),
        ("admin:promotions_modelversion_train", {}),
        ("admin:promotions_visitor_changelist", {"action": "erase_person_data", "_selected_action": ["1"]}),
    ],
)
def test_admin_posts_need_the_token(admin_user, url, data):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    assert client.post(reverse(url), data).status_code == 403
