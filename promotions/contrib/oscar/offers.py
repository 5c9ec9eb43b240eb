"""Oscar's baskets priced through ``promotions.checkout``, and the app's promotions kept as Oscar offers.

* ``priced_basket`` prices a basket once per request (memoized on the basket object) for the
  request's visitor, with the codes entered; on pages shown (GET) it keeps the quote in the session:
  that is what the shopper saw.
* ``verify_before_payment`` runs before Oscar's "place order" view (so before any payment): the
  redemption is tried under lock and rolled back; a promotion that ran out, a used code or a changed
  price stops the order there with the reason.
* ``redeem_for_order`` records the redemptions in the order's own transaction (Oscar's
  ``apply_deferred_benefit``); an error raises ``UnableToPlaceOrder``, so Oscar rolls the order back
  and shows the message on the preview page.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from ... import checkout
from ...cards import cards
from ...offers.models import CouponCode, Promotion

SESSION_CODES = "promotions_oscar_codes"
SESSION_QUOTE = "promotions_oscar_quote"
CONDITION_CLASS = "promotions.contrib.oscar.models.PromotionCondition"
BENEFIT_CLASS = "promotions.contrib.oscar.models.PromotionBenefit"
#: Oscar applies offers by priority, highest first: the app's come before the shop's own offers,
#: so an exclusive shop offer never takes a line whose discount the visitor was shown.
OFFER_PRIORITY = 1000
ZERO = Decimal("0")


class _DryRun(Exception):
    """Rolls back the trial redemption of ``verify_before_payment``."""


# --- Pricing ---------------------------------------------------------------------------


def _request(basket: Any) -> Any:
    strategy = basket.strategy if basket.has_strategy else None
    return getattr(strategy, "request", None)


def _lines(basket: Any) -> tuple[list[Any], list[checkout.BasketLine]]:
    """Oscar's lines with a price, and the same lines for the checkout contract (same order)."""
    oscar_lines = [line for line in basket.all_lines() if line.unit_effective_price is not None]
    known = cards(str(line.product_id) for line in oscar_lines)
    lines = []
    for line in oscar_lines:
        card = known.get(str(line.product_id))
        lines.append(
            checkout.BasketLine(
                item_id=str(line.product_id),
                quantity=line.quantity,
                unit_price=Decimal(line.unit_effective_price),
                category=card.category if card else "",
                brand=card.brand if card else "",
            )
        )
    return oscar_lines, lines


def basket_codes(basket: Any, request: Any) -> tuple[str, ...]:
    """The app's codes entered in Oscar's voucher form, and the codes of the basket's Oscar vouchers."""
    entered = (
        list(request.session.get(SESSION_CODES, [])) if request is not None and hasattr(request, "session") else []
    )
    if basket.id:
        entered += [voucher.code for voucher in basket.vouchers.all()]
    return tuple(dict.fromkeys(entered))


def _shopper(basket: Any, request: Any) -> Any:
    if request is not None:
        return request
    return checkout.Shopper(user_id=basket.owner_id)


def priced_basket(basket: Any) -> tuple[checkout.PricedBasket | None, list[Any]]:
    """The basket priced for its visitor, and Oscar's lines in the order of ``PricedBasket.lines``."""
    oscar_lines, lines = _lines(basket)
    if not lines:
        return None, oscar_lines
    request = _request(basket)
    codes = basket_codes(basket, request)
    key = (tuple((line.item_id, line.quantity, line.unit_price) for line in lines), codes)
    memo = basket.__dict__.get("_promotions_priced")
    if memo is not None and memo[0] == key:
        return memo[1], oscar_lines
    priced = checkout.price_basket(_shopper(basket, request), lines, codes=codes)
    basket._promotions_priced = (key, priced)
    if request is not None and request.method in ("GET", "HEAD") and hasattr(request, "session"):
        _remember_shown(request, basket, priced)
    return priced, oscar_lines


def _shown_key(priced: checkout.PricedBasket) -> list:
    return [str(priced.total), sorted([a.promotion_id, a.code, str(a.amount)] for a in priced.applied)]


def _remember_shown(request: Any, basket: Any, priced: checkout.PricedBasket) -> None:
    shown = {"basket": basket.id, "key": _shown_key(priced), "quote": priced.quote}
    previous = request.session.get(SESSION_QUOTE)
    if previous is None or previous.get("basket") != basket.id or previous.get("key") != shown["key"]:
        request.session[SESSION_QUOTE] = shown


def shown_quote(request: Any, basket: Any) -> str | None:
    """The quote of the basket as the shopper last saw it, if it was shown."""
    shown = request.session.get(SESSION_QUOTE) if hasattr(request, "session") else None
    return shown["quote"] if shown and shown.get("basket") == basket.id else None


def applied_discount(basket: Any, promotion_id: int) -> checkout.AppliedDiscount | None:
    priced, _lines_ = priced_basket(basket)
    if priced is None:
        return None
    return next((a for a in priced.applied if a.promotion_id == promotion_id and a.amount > 0), None)


def apply_promotion(basket: Any, promotion_id: int, offer: Any) -> Decimal:
    """Discount Oscar's lines by the promotion's amounts; returns the total given."""
    from oscar.apps.offer.benefits import apply_discount

    priced, oscar_lines = priced_basket(basket)
    applied = applied_discount(basket, promotion_id)
    if priced is None or applied is None:
        return ZERO
    given = ZERO
    for line, amount in zip(oscar_lines, applied.line_amounts, strict=True):
        if amount > 0:
            apply_discount(line, amount, line.quantity, offer)
            given += amount
    return given


# --- Codes ----------------------------------------------------------------------------


def accept_code(request: Any, code: str) -> tuple[bool, str] | None:
    """An app code entered in Oscar's voucher form: (accepted, message); None for other codes
    (Oscar's own vouchers, unknown codes), which Oscar's form handles."""
    from oscar.core.loading import get_model

    normalized = (code or "").strip().upper()
    if not normalized or get_model("voucher", "Voucher").objects.filter(code=normalized).exists():
        return None
    coupon = CouponCode.objects.filter(code=normalized).select_related("promotion").first()
    if coupon is None:
        return None
    if coupon.single_use and coupon.used >= 1:
        return False, _("The code %(code)s has already been used.") % {"code": normalized}
    codes = list(request.session.get(SESSION_CODES, []))
    if normalized not in codes:
        codes.append(normalized)
    request.session[SESSION_CODES] = codes
    basket = request.basket
    basket.__dict__.pop("_promotions_priced", None)
    priced, _lines_ = priced_basket(basket)
    reason = priced.not_applied_for(normalized) if priced is not None else None
    if reason is not None:
        return True, reason.message
    return True, _("The code %(code)s has been applied to your basket.") % {"code": normalized}


# --- Order placement ------------------------------------------------------------------


def _redeem(request: Any, basket: Any, order_id: str, email: str = "") -> list:
    priced, _oscar_lines = priced_basket(basket)
    if priced is None:
        return []
    _oscar, lines = _lines(basket)
    quote = shown_quote(request, basket) if request is not None else None
    return checkout.redeem(
        _shopper(basket, request),
        lines,
        codes=priced.codes,
        quote=quote or priced.quote,
        order_id=order_id,
        email=email,
    )


def verify_before_payment(request: Any) -> str | None:
    """Why the order cannot be placed at the price the shopper saw (a message), or None."""
    basket = request.basket
    if basket.is_empty:
        return None
    try:
        with transaction.atomic():
            _redeem(request, basket, f"oscar-basket-{basket.id}-trial")
            raise _DryRun
    except _DryRun:
        return None
    except checkout.CheckoutError as error:
        return error.message


def redeem_for_order(basket: Any, order: Any) -> None:
    """Record the order's redemptions (once per order, whichever of its offers asks first)."""
    from oscar.apps.order.exceptions import UnableToPlaceOrder

    if getattr(order, "_promotions_redeemed", False):
        return
    order._promotions_redeemed = True
    try:
        _redeem(_request(basket), basket, order.number, email=order.email or "")
    except checkout.CheckoutError as error:
        raise UnableToPlaceOrder(error.message) from error


# --- Promotions as Oscar offers -------------------------------------------------------


def _offer_model() -> Any:
    from oscar.core.loading import get_model

    return get_model("offer", "ConditionalOffer")


def offer_for(promotion_id: int) -> Any:
    return (
        _offer_model()
        .objects.filter(condition__proxy_class=CONDITION_CLASS, condition__value=promotion_id)
        .select_related("condition", "benefit")
        .first()
    )


def _offer_name(promotion: Promotion, offer: Any) -> str:
    name = (promotion.message or promotion.name)[:110]
    taken = _offer_model().objects.filter(name=name).exclude(pk=getattr(offer, "pk", None)).exists()
    return f"{name} (#{promotion.pk})" if taken else name


def sync_offer(promotion: Promotion) -> Any:
    """Create or update the Oscar site offer of ``promotion``. It stays open: whether it applies is
    decided per visitor by the condition, so Oscar never holds a stale copy of the schedule."""
    from oscar.core.loading import get_model

    offer = offer_for(promotion.pk)
    if offer is None:
        condition = get_model("offer", "Condition").objects.create(proxy_class=CONDITION_CLASS, value=promotion.pk)
        benefit = get_model("offer", "Benefit").objects.create(proxy_class=BENEFIT_CLASS)
        offer = _offer_model()(condition=condition, benefit=benefit)
    offer.name = _offer_name(promotion, offer)
    offer.description = promotion.message
    offer.offer_type = offer.SITE
    offer.exclusive = False
    offer.priority = OFFER_PRIORITY + promotion.priority
    offer.max_basket_applications = 1
    offer.save()
    return offer


def remove_offer(promotion_id: int) -> None:
    offer = offer_for(promotion_id)
    if offer is not None:
        condition, benefit = offer.condition, offer.benefit
        offer.delete()
        condition.delete()
        benefit.delete()


def on_promotion_saved(sender: Any, instance: Promotion, raw: bool = False, **kwargs: Any) -> None:
    if not raw:
        sync_offer(instance)


def on_promotion_deleted(sender: Any, instance: Promotion, **kwargs: Any) -> None:
    remove_offer(instance.pk)


def sync_all_offers(**kwargs: Any) -> None:
    """After ``migrate``: every promotion has its offer (promotions made before the app was added)."""
    for promotion in Promotion.objects.all():
        sync_offer(promotion)
