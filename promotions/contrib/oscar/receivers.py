"""Signal bridges: Oscar's basket, basket lines and checkout announce the visitor's events.

Oscar's ``basket_addition`` carries no quantity (it is read from the form the view accepted),
Oscar sends nothing when the basket page changes or deletes a line (the line model's own
signals are used, while the basket page's request is being served), and ``order_placed`` has no
request (``post_checkout`` has).
"""

from __future__ import annotations

import logging
from typing import Any

from django.db.models.signals import post_delete, pre_delete, pre_save

from ...tracking.capture import track
from ...tracking.models import EventType
from ...tracking.signals import order_placed as promotions_order_placed
from .middleware import current_request

logger = logging.getLogger(__name__)

#: The basket page, whose form changes quantities and deletes lines.
BASKET_URL_NAME = "basket:summary"


def _quantity(request: Any) -> int:
    try:
        return max(int(request.POST.get("quantity", 1)), 1)
    except (TypeError, ValueError):
        return 1


def on_basket_addition(sender: Any, product: Any, user: Any = None, request: Any = None, **kwargs: Any) -> None:
    if request is not None:
        track(request, EventType.ADD_TO_CART, product=product, quantity=_quantity(request))


def _basket_page_request() -> Any:
    request = current_request()
    match = getattr(request, "resolver_match", None) if request is not None else None
    return request if match is not None and match.view_name == BASKET_URL_NAME else None


def on_line_saved(sender: Any, instance: Any, raw: bool = False, **kwargs: Any) -> None:
    request = _basket_page_request()
    if request is None or raw or instance.pk is None:
        return
    before = sender._default_manager.filter(pk=instance.pk).values_list("quantity", flat=True).first()
    if before is None or before == instance.quantity:
        return
    change = instance.quantity - before
    event = EventType.ADD_TO_CART if change > 0 else EventType.REMOVE_FROM_CART
    track(request, event, product=instance.product, quantity=abs(change))


def on_line_deleted(sender: Any, instance: Any, **kwargs: Any) -> None:
    request = _basket_page_request()
    if request is not None:
        # The basket form sets the quantity to 0 before deleting: the stored quantity is what left.
        stored = sender._default_manager.filter(pk=instance.pk).values_list("quantity", flat=True).first()
        track(request, EventType.REMOVE_FROM_CART, product=instance.product, quantity=stored or instance.quantity)


def on_post_checkout(sender: Any, order: Any, request: Any = None, **kwargs: Any) -> None:
    if request is None:
        return
    from .offers import SESSION_CODES, SESSION_QUOTE

    # The codes entered and the quote belonged to the basket just ordered, not to the next one.
    for key in (SESSION_CODES, SESSION_QUOTE):
        request.session.pop(key, None)
    lines = [
        (
            line.product,
            line.quantity,
            line.line_price_incl_tax / line.quantity if line.quantity else line.unit_price_incl_tax,
        )
        for line in order.lines.all()
        if line.product is not None
    ]
    promotions_order_placed.send(sender=sender, request=request, lines=lines, order_id=order.number)


def connect(app_config: Any) -> None:
    from django.db.models.signals import post_migrate, post_save
    from oscar.apps.basket.signals import basket_addition
    from oscar.apps.checkout.signals import post_checkout
    from oscar.core.loading import get_model

    line_model = get_model("basket", "Line")
    basket_addition.connect(on_basket_addition, dispatch_uid="promotions-oscar-basket-addition")
    pre_save.connect(on_line_saved, sender=line_model, dispatch_uid="promotions-oscar-line-saved")
    pre_delete.connect(on_line_deleted, sender=line_model, dispatch_uid="promotions-oscar-line-deleted")
    post_checkout.connect(on_post_checkout, dispatch_uid="promotions-oscar-post-checkout")

    from ...offers.models import Promotion
    from . import offers

    post_save.connect(offers.on_promotion_saved, sender=Promotion, dispatch_uid="promotions-oscar-offer-saved")
    post_delete.connect(offers.on_promotion_deleted, sender=Promotion, dispatch_uid="promotions-oscar-offer-deleted")
    post_migrate.connect(offers.sync_all_offers, sender=app_config, dispatch_uid="promotions-oscar-sync-offers")
