"""Bought together and bundles: the stored pairs, ``{% bought_together %}``, bundle suggestions,
and bundle promotions priced and redeemed through the checkout contract."""

import math
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import transaction
from django.template import Context, Template
from django.urls import reverse
from django.utils import timezone

from promotions import checkout
from promotions.offers import pricing, together
from promotions.offers.models import ItemAssociation, Promotion
from promotions.tracking.models import Event, EventType
from shop_demo.models import Product
from tests.offers.conftest import make_promotion, visitor_request

D = Decimal
CANDLE, MUG = pricing.Line("CAN1", D("10.00"), 2), pricing.Line("MUG1", D("5.00"), 1)


def bundle(kind: str, value: str, members=("CAN1", "MUG1"), pk: int = 1) -> pricing.Terms:
    return pricing.Terms(pk, kind, D(value), pricing.Target("products", frozenset(members)))


def test_bundle_at_a_price_by_hand():
    # One complete set (the mug limits it): 10 + 5 = 15 for 12, 3.00 off split by price: 2.00 and 1.00.
    priced = pricing.price_cart([CANDLE, MUG], [bundle(pricing.BUNDLE_PRICE, "12.00")])
    assert priced.line_discounts == [D("2.00"), D("1.00")]
    assert priced.total == D("22.00")
    # Two sets when both lines hold two units.
    priced = pricing.price_cart([CANDLE, pricing.Line("MUG1", D("5.00"), 2)], [bundle(pricing.BUNDLE_PRICE, "12.00")])
    assert priced.discount == D("6.00")
    # A bundle price above the set's price gives nothing.
    assert pricing.price_cart([CANDLE, MUG], [bundle(pricing.BUNDLE_PRICE, "20.00")]).discount == 0


def test_bundle_percentage_by_hand_and_only_when_complete():
    priced = pricing.price_cart([CANDLE, MUG], [bundle(pricing.BUNDLE_PERCENT, "10")])
    assert priced.line_discounts == [D("1.00"), D("0.50")]  # 10% of one set (15.00)
    assert pricing.price_cart([CANDLE], [bundle(pricing.BUNDLE_PERCENT, "10")]).discount == 0
    three = bundle(pricing.BUNDLE_PERCENT, "10", ("CAN1", "MUG1", "PLT1"))
    assert pricing.price_cart([CANDLE, MUG], [three]).discount == 0
    # After a 50% sitewide discount the set costs 7.50: 10% of that.
    half = pricing.Terms(2, pricing.PERCENTAGE, D(50))
    priced = pricing.price_cart([CANDLE, MUG], [half, bundle(pricing.BUNDLE_PERCENT, "10")])
    assert priced.by_promotion == {2: D("12.50"), 1: D("0.75")}


@pytest.mark.django_db
def test_a_bundle_is_a_product_set_of_two_or_more():
    promotion = Promotion(name="b", message="m", kind=Promotion.Kind.BUNDLE_PERCENT, value=D(10))
    promotion.target_kind, promotion.target_values = Promotion.TargetKind.PRODUCTS, ["CAN1"]
    with pytest.raises(ValidationError):
        promotion.full_clean()
    promotion.target_values = ["CAN1", "MUG1"]
    promotion.full_clean()
    promotion.value = D(120)
    with pytest.raises(ValidationError):
        promotion.full_clean()


@pytest.mark.django_db
def test_a_bundle_is_charged_as_quoted(products):
    promotion = make_promotion(
        name="Candle and mug",
        message="Candle and mug for 12",
        kind=Promotion.Kind.BUNDLE_PRICE,
        value=D("12.00"),
        target_kind=Promotion.TargetKind.PRODUCTS,
        target_values=["CAN1", "MUG1"],
    )
    shopper = checkout.Shopper(session_key="s1")
    lines = [checkout.BasketLine("CAN1", 2), checkout.BasketLine("MUG1", 1)]
    basket = checkout.price_basket(shopper, lines)
    assert [line.discount for line in basket.lines] == [D("2.00"), D("1.00")]
    assert basket.total == D("22.00")
    with transaction.atomic():
        [redemption] = checkout.redeem(shopper, lines, quote=basket.quote, order_id="B1")
    assert (redemption.promotion_id, redemption.discount, redemption.order_total) == (
        promotion.pk,
        D("3.00"),
        D("22.00"),
    )
    # Without the mug the bundle is not complete: no discount.
    assert checkout.price_basket(shopper, lines[:1]).discount == 0


def bought(customer: str, items: str, days_ago: int = 5) -> None:
    for item in items.split():
        Event.objects.create(
            event_type=EventType.PURCHASE,
            visitor_id=customer,
            item_id=item,
            quantity=1,
            occurred_at=timezone.now() - timedelta(days=days_ago),
            idempotency_key=uuid.uuid4().hex,
        )


@pytest.fixture
def shop(products, settings):
    """10 baskets: candle and mug together in 4, plates alone in 4, a candle alone in 2."""
    settings.PROMOTIONS = {**settings.PROMOTIONS, "BOUGHT_TOGETHER_MIN_BASKETS": 2, "BOUGHT_TOGETHER_MAX_P_VALUE": 0.5}
    Product.objects.create(stock_code="PLT1", title="Plate", price=D("7.00"), category=products["MUG1"].category)
    for n in range(4):
        bought(f"together{n}", "CAN1 MUG1")
        bought(f"plates{n}", "PLT1")
    for n in range(2):
        bought(f"candle{n}", "CAN1")
    bought("candle0", "MUG1", days_ago=30)  # another day: another basket
    return products


@pytest.mark.django_db
def test_pairs_are_stored_with_their_lift_and_serve_the_tag(shop):
    assert together.refresh() == 2  # one pair, both directions
    row = ItemAssociation.objects.get(item_id="CAN1")
    # 11 baskets; candle in 6, mug in 5, both in 4: lift 4 * 11 / 30.
    assert (row.other_id, row.together, row.lift) == ("MUG1", 4, pytest.approx(44 / 30))
    assert together.companions(["CAN1"], 4) == [("MUG1", pytest.approx(4 * math.log(44 / 30)))]
    html = Template('{% load promotions %}{% bought_together "CAN1" %}').render(Context({"request": visitor_request()}))
    assert "Mug" in html and "Often bought together" in html and "Plate" not in html
    product = Product.objects.get(stock_code="MUG1")
    html = Template("{% load promotions %}{% bought_together product %}").render(
        Context({"request": visitor_request(), "product": product})
    )
    assert "Candle" in html
    cart = Template("{% load promotions %}{% bought_together cart limit=3 %}").render(
        Context({"request": visitor_request(), "cart": ["CAN1", "MUG1"]})
    )
    assert cart.strip() == ""  # the cart holds the whole pair already


@pytest.mark.django_db
def test_the_daily_task_rebuilds_the_stored_pairs(shop):
    from promotions import tasks
    from promotions.schedules import BEAT_SCHEDULE

    stale = ItemAssociation.objects.create(
        item_id="PLT1", other_id="CAN1", together=1, lift=1.0, p_value=1.0, computed_at=timezone.now()
    )
    assert BEAT_SCHEDULE["promotions-refresh-bought-together"] == {
        "task": "promotions.refresh_bought_together",
        "schedule": 24 * 3600.0,
    }
    assert tasks.refresh_bought_together.delay().get() == 2  # eager in tests: what a worker runs
    stored = sorted(ItemAssociation.objects.values_list("item_id", "other_id", "together"))
    assert stored == [("CAN1", "MUG1", 4), ("MUG1", "CAN1", 4)]
    assert not ItemAssociation.objects.filter(pk=stale.pk).exists()


@pytest.mark.django_db
def test_the_command_suggests_draft_bundles_that_the_admin_edits(shop, admin_client):
    call_command("promotions_bought_together", suggest=3, percent="15")
    [suggested] = Promotion.objects.filter(kind=Promotion.Kind.BUNDLE_PERCENT)
    assert (suggested.status, suggested.value, suggested.target_values) == ("draft", D(15), ["CAN1", "MUG1"])
    call_command("promotions_bought_together", suggest=3)  # the pair is covered: nothing new
    assert Promotion.objects.filter(kind=Promotion.Kind.BUNDLE_PERCENT).count() == 1
    with pytest.raises(CommandError):
        call_command("promotions_bought_together", percent="abc")
    assert admin_client.get(reverse("admin:promotions_promotion_change", args=[suggested.pk])).status_code == 200
    suggested.delete()
    pairs = reverse("admin:promotions_itemassociation_changelist")
    response = admin_client.post(
        pairs, {"action": "draft_bundles", "_selected_action": [ItemAssociation.objects.get(item_id="CAN1").pk]}
    )
    assert response.status_code == 302
    assert Promotion.objects.get(kind=Promotion.Kind.BUNDLE_PERCENT).target_values == ["CAN1", "MUG1"]


@pytest.mark.django_db
def test_the_demo_product_and_cart_pages_show_what_is_bought_together(shop, client):
    together.refresh()
    page = client.get(Product.objects.get(stock_code="CAN1").get_absolute_url()).content.decode()
    section = page[page.index('class="block bought-together"') :]
    assert "Often bought together" in section and "Mug" in section[: section.index("</section>")]
    client.post(reverse("shop:cart_add", args=["MUG1"]), {"quantity": 1})
    cart = client.get(reverse("shop:cart")).content.decode()
    section = cart[cart.index('class="block bought-together"') :]
    assert "Candle" in section[: section.index("</section>")]
