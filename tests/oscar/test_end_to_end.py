"""The app inside a real django-oscar shop, end to end, through Oscar's own views: the discount a
visitor is shown is the discount Oscar's basket, order and e-mail charge, the redemption is recorded
against the budget, the events are recorded, and a promotion that ran out stops the order."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.core import mail
from django.test import override_settings
from django.urls import reverse
from oscar.core.loading import get_model

from promotions.offers.models import Promotion, Redemption
from promotions.tracking.models import Event

from .conftest import checkout_to_preview, place_order

pytestmark = pytest.mark.django_db
Order = get_model("order", "Order")


def shown_saving(html: str) -> Decimal:
    return Decimal(re.search(r'data-promotions-saving="([0-9.]+)"', html).group(1))


def test_a_visitor_is_charged_exactly_the_discount_shown(visitor, shop, candle_promotion, settings):
    settings.PROMOTIONS = {**settings.PROMOTIONS, "HOLDOUT_SHARE": 0}
    candle = shop["candle"]
    page = visitor.get(candle.get_absolute_url())
    assert page.status_code == 200
    assert "20% off all candles" in page.text  # the promotion for "Candles" covers "Candles > Scented"
    saving = shown_saving(page.text)
    assert saving == Decimal("2.40")

    visitor.post(reverse("basket:add", kwargs={"pk": candle.pk}), {"quantity": 2})
    visitor.post(reverse("basket:add", kwargs={"pk": shop["mug"].pk}), {"quantity": 1})
    basket_page = visitor.get(reverse("basket:summary"))
    basket = basket_page.context["basket"]
    assert basket.total_discount == 2 * saving  # two candles, each discounted as shown; the mug is not
    assert basket.total_incl_tax == Decimal("24.00") + Decimal("8.00") - 2 * saving
    assert "20% off all candles" in basket_page.text  # Oscar's basket summary names the offer

    checkout_to_preview(visitor)
    response = place_order(visitor)
    assert response.status_code == 302 and response.url == reverse("checkout:thank-you")

    order = Order.objects.get()
    assert order.total_incl_tax == Decimal("27.20")
    discount = order.discounts.get()
    assert (discount.offer_name, discount.amount) == ("20% off all candles", Decimal("4.80"))
    assert "£19.20" in mail.outbox[0].body and "Order Total: £27.20" in mail.outbox[0].body  # Oscar's e-mail

    redemption = Redemption.objects.get()
    assert (redemption.order_ref, redemption.discount, redemption.promotion_id) == (
        order.number,
        Decimal("4.80"),
        candle_promotion.pk,
    )
    candle_promotion.refresh_from_db()
    assert (candle_promotion.redemptions_count, candle_promotion.discount_spent) == (1, Decimal("4.80"))

    visitor_id = Event.objects.filter(event_type="view", item_id=str(candle.pk)).get().visitor_id
    events = Event.objects.filter(visitor_id=visitor_id)
    assert {(e.event_type, e.item_id, e.quantity) for e in events.filter(event_type="add_to_cart")} == {
        ("add_to_cart", str(candle.pk), 2),
        ("add_to_cart", str(shop["mug"].pk), 1),
    }
    purchases = {e.item_id: (e.quantity, e.unit_price) for e in events.filter(event_type="purchase")}
    assert purchases == {str(candle.pk): (2, Decimal("9.6000")), str(shop["mug"].pk): (1, Decimal("8.0000"))}


def test_a_promotion_that_ran_out_before_payment_stops_the_order_with_a_message(visitor, shop, candle_promotion):
    visitor.post(reverse("basket:add", kwargs={"pk": shop["candle"].pk}), {"quantity": 1})
    checkout_to_preview(visitor)  # the preview showed the discount
    # Another order spends the budget between the preview and "place order".
    Promotion.objects.filter(pk=candle_promotion.pk).update(discount_spent=Decimal("100.00"))
    response = place_order(visitor)
    assert response.status_code == 302 and response.url == reverse("basket:summary")
    assert not Order.objects.exists() and not Redemption.objects.exists()
    basket_page = visitor.get(response.url)
    assert "has run out" in basket_page.text
    assert basket_page.context["basket"].total_incl_tax == Decimal("12.00")  # the new price, shown before paying


def test_basket_quantity_changes_and_removals_are_recorded(visitor, shop):
    candle = shop["candle"]
    visitor.post(reverse("basket:add", kwargs={"pk": candle.pk}), {"quantity": 3})
    formset = visitor.get(reverse("basket:summary")).context["formset"]
    data = {f"{formset.prefix}-{key}": value for key, value in formset.management_form.initial.items()}
    line = formset.forms[0].instance
    data.update({f"{formset.prefix}-0-id": line.pk, f"{formset.prefix}-0-quantity": 1})
    visitor.post(reverse("basket:summary"), data)
    data[f"{formset.prefix}-0-quantity"] = 0
    visitor.post(reverse("basket:summary"), data)
    changes = [(e.event_type, e.quantity) for e in Event.objects.filter(item_id=str(candle.pk)).order_by("pk")]
    assert changes == [("add_to_cart", 3), ("remove_from_cart", 2), ("remove_from_cart", 1)]


@override_settings(HAYSTACK_CONNECTIONS={"default": {"ENGINE": "haystack.backends.simple_backend.SimpleEngine"}})
def test_searches_are_recorded_with_oscars_result_count(visitor, shop):
    visitor.get(reverse("search:search"), {"q": "candle"})
    search = Event.objects.get(event_type="search")
    assert (search.query, search.result_count) == ("candle", 1)
