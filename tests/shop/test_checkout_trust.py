"""Checkout you can trust (the demo shop through ``promotions.checkout``): one cart one order, no
silent full-price charge, limits per customer without consent, the cart says why a code does not
apply, attribution credits the promotion applied, and the shop imports only the public API."""

import ast
import importlib.util
import re
import threading
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import connection, connections
from django.test import Client
from django.urls import reverse
from django.utils import timezone

import shop_demo
from promotions import checkout
from promotions.offers.figures import credits_between
from promotions.offers.models import CouponCode, Promotion, Redemption
from promotions.offers.service import forget_live_promotions
from promotions.tracking.models import Event
from shop_demo.cart import SHIPPING_FEE
from shop_demo.consent import COOKIE_NAME, DECLINED
from shop_demo.models import Order

from .conftest import put_in_cart
from .test_checkout import checkout_data

#: What a shop may import from the app: the documented public modules.
PUBLIC = {
    "promotions",
    "promotions.checkout",
    "promotions.models",
    "promotions.schedules",
    "promotions.tracking",
    "promotions.tracking.signals",
}
#: Demo tooling, not the integration: the sample-data loader, the demo's set-up (training state,
#: experiments, the headless example's API key) and its replay of held-out shoppers, and their
#: commands use internal helpers.
TOOLING = {
    "catalog/loading.py",
    "headless.py",
    "management/commands/demo.py",
    "management/commands/demo_replay.py",
    "measurement.py",
    "replay.py",
    "training_state.py",
}


@pytest.fixture(autouse=True)
def fresh_live_promotions():
    forget_live_promotions()
    yield
    forget_live_promotions()


def promotion(**fields) -> Promotion:
    values = {"name": "Ten off", "message": "10% off", "status": Promotion.Status.ACTIVE, "value": Decimal(10)}
    values.update(fields)
    return Promotion.objects.create(**values)


def coupon(code: str, **fields) -> Promotion:
    offer = promotion(coupon_required=True, **fields)
    CouponCode.objects.create(promotion=offer, code=code, single_use=fields.get("max_redemptions") == -1)
    return offer


def imported_modules(tree: ast.AST) -> list[str]:
    """Every module an AST imports: ``from promotions import checkout`` imports promotions.checkout."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                found.append(full if node.module.startswith("promotions") and _is_module(full) else node.module)
    return found


def _is_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        return False


def test_the_shop_imports_only_the_public_api():
    root = Path(shop_demo.__file__).parent
    private = []
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root).as_posix()
        if relative in TOOLING or relative.startswith("migrations/"):
            continue
        modules = imported_modules(ast.parse(path.read_text(), str(path)))
        private += [
            f"{relative}: {name}" for name in modules if name.split(".")[0] == "promotions" and name not in PUBLIC
        ]
    assert private == []
    assert "promotions.offers" in imported_modules(ast.parse("from promotions import offers"))
    assert imported_modules(ast.parse("from promotions.offers.budget import redeem")) == ["promotions.offers.budget"]


def confirm_page(client) -> str:
    """GET the checkout page as a browser does: the quote of the total it shows."""
    page = client.get(reverse("shop:checkout"))
    return page.context["form"].initial["quote"]


def test_a_code_used_up_between_cart_and_payment_stops_the_order_with_the_new_total(client, mug):
    once = promotion(coupon_required=True)
    CouponCode.objects.create(promotion=once, code="ONCE", single_use=True)
    put_in_cart(client, {"MUG1": 2})
    client.post(reverse("shop:cart_coupon"), {"code": "once"})
    quote = confirm_page(client)
    assert checkout.read_quote(quote)["d"] == "0.70"
    CouponCode.objects.filter(code="ONCE").update(used=1)  # someone else's order took it
    response = client.post(reverse("shop:checkout"), {**checkout_data(), "quote": quote})
    assert response.status_code == 200 and Order.objects.count() == 0
    errors = response.context["form"].non_field_errors()
    assert errors[0].startswith("The code ONCE has already been used.")
    new_total = Decimal("7.00") + SHIPPING_FEE
    assert response.context["total"] == new_total and f"Pay £{new_total}" in response.text
    # Confirming the new total places the order at that total, knowingly.
    new_quote = re.search(r'name="quote" value="([^"]+)"', response.text).group(1)
    client.post(reverse("shop:checkout"), {**checkout_data(), "quote": new_quote})
    order = Order.objects.get()
    assert order.total == new_total and order.discount == 0


@pytest.mark.parametrize(
    ("fields", "change", "expected"),
    [
        ({"max_discount_total": Decimal("5")}, {"discount_spent": Decimal("5")}, "has run out"),
        ({"max_redemptions": 3}, {"redemptions_count": 3}, "has run out"),
        ({}, {"ends_at": timezone.now() - timedelta(seconds=1)}, "has ended"),
    ],
    ids=["budget", "max-redemptions", "ended"],
)
def test_a_promotion_gone_since_the_cart_is_never_a_silent_full_price_charge(client, mug, fields, change, expected):
    offer = promotion(**fields)
    put_in_cart(client, {"MUG1": 2})
    quote = confirm_page(client)
    Promotion.objects.filter(pk=offer.pk).update(**change)
    response = client.post(reverse("shop:checkout"), {**checkout_data(), "quote": quote})
    assert Order.objects.count() == 0 and not Redemption.objects.exists()
    assert expected in response.context["form"].non_field_errors()[0]
    assert response.context["total"] == Decimal("7.00") + SHIPPING_FEE


def test_the_welcome_code_limit_holds_after_declining_tracking(client, mug):
    coupon("WELCOME10", per_customer_limit=1)
    client.cookies[COOKIE_NAME] = DECLINED
    discounts = []
    for _order in range(3):
        put_in_cart(client, {"MUG1": 2})
        client.post(reverse("shop:cart_coupon"), {"code": "welcome10"})
        client.post(reverse("shop:checkout"), {**checkout_data(), "quote": confirm_page(client)})
        discounts.append(Order.objects.order_by("-pk").first().discount)
    assert discounts == [Decimal("0.70"), Decimal("0"), Decimal("0")]
    put_in_cart(client, {"MUG1": 1})
    cart = client.post(reverse("shop:cart_coupon"), {"code": "welcome10"}, follow=True)
    assert "You have already used the offer “10% off”." in cart.text
    assert [entry.reason for entry in cart.context["not_applied"]] == ["customer_limit"]
    # Another session (cookies cleared), the same e-mail: still the same customer.
    other = Client()
    other.cookies[COOKIE_NAME] = DECLINED
    put_in_cart(other, {"MUG1": 2})
    other.post(reverse("shop:cart_coupon"), {"code": "welcome10"})
    response = other.post(reverse("shop:checkout"), {**checkout_data(), "quote": confirm_page(other)})
    assert "You have already used the offer" in response.context["form"].non_field_errors()[0]
    assert Order.objects.count() == 3


def test_the_cart_says_which_discount_applies_and_why_a_code_does_not(client, mug):
    welcome = coupon("WELCOME10", message="Welcome: 10% off")
    big = promotion(name="Mugs", message="Mugs 30% off", value=Decimal(30), exclusive=True)
    put_in_cart(client, {"MUG1": 2})
    response = client.post(reverse("shop:cart_coupon"), {"code": "welcome10"}, follow=True)
    assert "The code WELCOME10 was applied." not in response.text
    why = "The offer “Welcome: 10% off” does not combine with “Mugs 30% off”, which gives you more."
    assert why in response.text
    assert [a.promotion_id for a in response.context["applied_promotions"]] == [big.pk]
    assert [(e.promotion_id, e.reason) for e in response.context["not_applied"]] == [(welcome.pk, "better_offer")]
    wrong_cart = coupon("GARDEN", message="Garden 5 off", target_kind="categories", target_values=["Garden"])
    response = client.post(reverse("shop:cart_coupon"), {"code": "garden"}, follow=True)
    assert "The offer “Garden 5 off” does not cover the products in your cart." in response.text
    assert wrong_cart.pk not in [a.promotion_id for a in response.context["applied_promotions"]]


def test_attribution_credits_the_promotion_actually_applied(client, mug):
    welcome = coupon("WELCOME10", message="Welcome: 10% off")
    big = promotion(name="Mugs", message="Mugs 30% off", value=Decimal(30), exclusive=True)
    put_in_cart(client, {"MUG1": 2})
    client.post(reverse("shop:cart_coupon"), {"code": "welcome10"})
    client.post(reverse("shop:checkout"), {**checkout_data(), "quote": confirm_page(client)})
    order = Order.objects.get()
    assert list(Redemption.objects.values_list("promotion_id", "order_ref")) == [(big.pk, str(order.pk))]
    # The shopper last clicked the welcome offer; the order redeemed the exclusive one.
    now = timezone.now()
    common = {"visitor_id": "v" * 32}
    Event.objects.create(
        event_type="promotion_click", promotion_id=welcome.pk, occurred_at=now, idempotency_key="c", **common
    )
    Event.objects.create(
        event_type="purchase",
        idempotency_key="p",
        item_id="MUG1",
        quantity=2,
        unit_price=mug.price,
        context={"order": str(order.pk)},
        occurred_at=now + timedelta(seconds=1),
        **common,
    )
    credits = credits_between(now - timedelta(hours=1), now + timedelta(hours=1))
    assert [(c.promotion_id, c.promotion_via) for c in credits] == [(big.pk, "redemption")]


def test_cancelling_an_order_gives_the_budget_back(client, mug):
    offer = promotion(max_discount_total=Decimal("1.00"))
    put_in_cart(client, {"MUG1": 2})
    client.post(reverse("shop:checkout"), {**checkout_data(), "quote": confirm_page(client)})
    order = Order.objects.get()
    offer.refresh_from_db()
    assert offer.discount_spent == Decimal("0.70")
    assert checkout.refund(str(order.pk)) == Decimal("0.70")
    offer.refresh_from_db()
    assert (offer.discount_spent, offer.redemptions_count) == (Decimal("0.00"), 0)


def test_a_repeated_submit_of_a_placed_cart_gets_the_same_order(client, mug):
    put_in_cart(client, {"MUG1": 1})
    before = dict(client.session.items())
    first = client.post(reverse("shop:checkout"), checkout_data())
    # The second click was sent with the session as it was before the first completed.
    stale = client.session
    stale.update(before)
    stale.pop("cart_generation", None)
    stale.save()
    second = client.post(reverse("shop:checkout"), checkout_data())
    assert Order.objects.count() == 1
    assert first.url == second.url == reverse("shop:order", args=[Order.objects.get().pk])


def concurrently(count: int, submit) -> list:
    barrier = threading.Barrier(count)
    results: list = []

    def run(n: int) -> None:
        try:
            barrier.wait()
            results.append(submit(n))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def needs_postgresql() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("row locks are tested in the PostgreSQL pass (DATABASE_URL=postgres://...)")


@pytest.mark.django_db(transaction=True)
def test_five_concurrent_submits_of_one_cart_make_one_order(postgres_available, mug):
    needs_postgresql()
    offer = promotion(max_discount_total=Decimal("100"))
    first = Client()
    put_in_cart(first, {"MUG1": 2})
    quote = confirm_page(first)
    cookie = first.cookies["sessionid"].value

    def submit(n: int) -> int:
        browser = Client()
        browser.cookies["sessionid"] = cookie
        return browser.post(reverse("shop:checkout"), {**checkout_data(), "quote": quote}).status_code

    statuses = concurrently(5, submit)
    assert statuses == [302] * 5
    assert Order.objects.count() == 1
    offer.refresh_from_db()
    assert (offer.redemptions_count, offer.discount_spent) == (1, Decimal("0.70"))


@pytest.mark.django_db(transaction=True)
def test_a_single_use_code_used_twice_concurrently_gives_one_discount(postgres_available, mug):
    needs_postgresql()
    once = promotion(coupon_required=True)
    CouponCode.objects.create(promotion=once, code="ONCE", single_use=True)
    browsers = []
    for _n in range(2):
        browser = Client()
        put_in_cart(browser, {"MUG1": 2})
        browser.post(reverse("shop:cart_coupon"), {"code": "once"})
        browsers.append((browser, confirm_page(browser)))

    def submit(n: int) -> int:
        browser, quote = browsers[n]
        return browser.post(reverse("shop:checkout"), {**checkout_data(), "quote": quote}).status_code

    assert sorted(concurrently(2, submit)) == [200, 302]  # one order; the other sees the new total
    assert [order.discount for order in Order.objects.all()] == [Decimal("0.70")]
    assert Redemption.objects.count() == 1 and CouponCode.objects.get().used == 1
