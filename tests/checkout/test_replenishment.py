"""Buy again in the shop: ``{% buy_again %}``, and a replenishment promotion that targets the items
due for this customer, shown with them and charged on them only through the checkout contract."""

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.template import Context, Template
from django.utils import timezone

from promotions import checkout
from promotions.offers import replenish
from promotions.offers.models import Promotion
from promotions.offers.service import eligible_promotions
from promotions.tracking.models import Event, EventType
from tests.offers.conftest import make_promotion, visitor_request

pytestmark = pytest.mark.django_db

BASKET = [checkout.BasketLine("CAN1", 2), checkout.BasketLine("MUG1", 1)]  # 2 x 10.00 and 1 x 5.00


def bought(user, item_id: str, days_ago: int, visitor_id: str = "v" * 32) -> None:
    Event.objects.create(
        event_type=EventType.PURCHASE,
        visitor_id=visitor_id,
        user=user,
        item_id=item_id,
        quantity=1,
        occurred_at=timezone.now() - timedelta(days=days_ago),
        idempotency_key=uuid.uuid4().hex,
    )


@pytest.fixture
def regular(products):
    """A customer who buys a candle every 30 days (last 30 days ago: due) and a mug every 30 days
    (last 3 days ago: not due)."""
    user = get_user_model().objects.create_user("bo", "bo@example.com", "pw")
    for days_ago in (90, 60, 30):
        bought(user, "CAN1", days_ago)
    for days_ago in (33, 3):
        bought(user, "MUG1", days_ago)
    return user


def your_usual() -> Promotion:
    return make_promotion(
        name="Your usual", message="Your usual, 10% off this week", target_kind=Promotion.TargetKind.DUE
    )


def test_the_due_items_are_those_whose_cycle_comes_round(regular):
    assert replenish.due_item_ids(None, regular.pk) == ("CAN1",)  # the mug was bought 3 days ago
    assert replenish.due_item_ids(None, None) == ()
    assert replenish.due_item_ids("someone-else", None) == ()
    # The visitor's own events count when they are not signed in.
    assert replenish.due_item_ids("v" * 32, None) == ("CAN1",)


def test_a_replenishment_promotion_needs_no_target_values():
    promotion = Promotion(name="Usual", message="m", kind=Promotion.Kind.PERCENTAGE, value=Decimal(10))
    promotion.target_kind = Promotion.TargetKind.DUE
    promotion.full_clean()
    promotion.target_kind = Promotion.TargetKind.PRODUCTS
    with pytest.raises(ValidationError):
        promotion.full_clean()


def test_it_is_charged_on_the_due_items_only_and_redeemed_as_quoted(regular):
    promotion = your_usual()
    shopper = checkout.Shopper(user_id=regular.pk, email="bo@example.com")
    basket = checkout.price_basket(shopper, BASKET)
    assert [(line.item_id, line.discount) for line in basket.lines] == [
        ("CAN1", Decimal("2.00")),
        ("MUG1", Decimal("0")),
    ]
    assert (basket.discount, basket.total) == (Decimal("2.00"), Decimal("23.00"))
    with transaction.atomic():
        [redemption] = checkout.redeem(shopper, BASKET, quote=basket.quote, order_id="R1")
    assert (redemption.promotion_id, redemption.discount, redemption.order_total) == (
        promotion.pk,
        Decimal("2.00"),
        Decimal("23.00"),
    )
    # A customer with nothing due gets nothing from it.
    assert checkout.price_basket(checkout.Shopper(session_key="s2"), BASKET).discount == Decimal("0")


def test_it_is_shown_to_the_customer_with_their_due_items_and_to_no_one_else(regular):
    promotion = your_usual()
    request = visitor_request(user=regular)
    [shown] = eligible_promotions(request)
    assert (shown.pk, shown.target_kind, shown.target_values) == (promotion.pk, "products", ["CAN1"])
    html = Template('{% load promotions %}{% personalized_promotions limit=3 slot="home" %}').render(
        Context({"request": request})
    )
    assert "Your usual, 10% off this week" in html and "Candle" in html and "Mug" not in html
    assert eligible_promotions(visitor_request(visitor_id="b" * 32)) == []
    # The shared list of live promotions is untouched: the copy is per visitor.
    assert Promotion.objects.get(pk=promotion.pk).target_kind == Promotion.TargetKind.DUE


def render_buy_again(request) -> str:
    return Template("{% load promotions %}{% buy_again limit=5 %}").render(Context({"request": request}))


def test_buy_again_tag_lists_the_customers_products_due_first(regular):
    html = render_buy_again(visitor_request(user=regular))
    assert html.index("Candle") < html.index("Mug")  # the candle is due, the mug was bought 3 days ago
    # Both due items buy every 30 days: the reason heads their group once, each card carries it as data.
    assert html.count("You buy this about every 30 days") == 1
    assert html.count('data-promotions-reason="buy_again|||30"') == 2
    assert 'data-promotions-slot-list="buy_again"' in html
    # Without consent and not signed in, nothing is known about the visitor: nothing is rendered.
    assert render_buy_again(visitor_request(visitor_id="v" * 32, allowed=False)).strip() == ""
    assert render_buy_again(visitor_request(visitor_id="c" * 32)).strip() == ""
