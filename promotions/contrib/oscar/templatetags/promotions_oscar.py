"""Template tags for the app's tag templates in an Oscar shop (``{% load promotions_oscar %}``)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import template
from django.middleware.csrf import get_token
from django.utils.html import format_html

register = template.Library()


@register.simple_tag(takes_context=True)
def promotions_csrf_input(context: template.Context) -> str:
    """The CSRF field of an "add to basket" form in a tag template (which has no ``csrf_token``
    of its own: tag templates render with their own values and the request)."""
    request = context.get("request")
    if request is None:
        return ""
    return format_html('<input type="hidden" name="csrfmiddlewaretoken" value="{}">', get_token(request))


@register.simple_tag(takes_context=True)
def promotion_price(context: template.Context, item_id: Any, unit_price: Decimal | None = None) -> Any:
    """``{% promotion_price card.id card.price as priced %}``: one unit of the product priced for this
    visitor through ``promotions.checkout`` (``priced.total``, ``priced.discount``), the very
    computation Oscar's basket uses, so the saving shown is the saving charged. None without a request."""
    from promotions import checkout

    request = context.get("request")
    if request is None:
        return None
    try:
        line = checkout.BasketLine(item_id=str(item_id), quantity=1, unit_price=unit_price)
        return checkout.price_basket(request, [line])
    except ValueError:  # a product the adapter does not know
        return None
