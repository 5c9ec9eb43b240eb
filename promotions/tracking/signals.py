"""Signals: the shop announces cart and order changes; login links a visitor to the user."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in
from django.dispatch import Signal, receiver

from .capture import track
from .models import EventType, Visitor

#: Sent by the shop: ``product_added_to_cart.send(sender, request=..., product=..., quantity=...)``.
product_added_to_cart = Signal()
#: ``product_removed_from_cart.send(sender, request=..., product=..., quantity=...)``.
product_removed_from_cart = Signal()
#: ``order_placed.send(sender, request=..., lines=[(product, quantity, unit_price), ...], order_id=...)``.
order_placed = Signal()


@receiver(product_added_to_cart)
def _on_add(sender: Any, request, product, quantity: int = 1, **kwargs: Any) -> None:
    track(request, EventType.ADD_TO_CART, product=product, quantity=quantity)


@receiver(product_removed_from_cart)
def _on_remove(sender: Any, request, product, quantity: int = 1, **kwargs: Any) -> None:
    track(request, EventType.REMOVE_FROM_CART, product=product, quantity=quantity)


@receiver(order_placed)
def _on_order(sender: Any, request, lines, order_id: Any = None, **kwargs: Any) -> None:
    context = {"order": str(order_id)} if order_id is not None else {}
    for product, quantity, unit_price in lines:
        value = unit_price * quantity
        track(request, EventType.PURCHASE, product=product, quantity=quantity, value=value, context=context)


@receiver(user_logged_in)
def link_visitor_to_user(sender: Any, request, user, **kwargs: Any) -> None:
    """The visitor's history (and later its experiment assignments) follows them into the account."""
    visitor_id = getattr(request, "visitor_id", None) if request is not None else None
    if visitor_id:
        Visitor.objects.update_or_create(key=visitor_id, defaults={"user": user, "kind": Visitor.Kind.COOKIE})
