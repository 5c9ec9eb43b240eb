"""Redeeming a promotion against its budget, race-free under concurrent checkouts.

Every redemption locks the promotion's row (``SELECT ... FOR UPDATE``; SQLite serializes writers
anyway), re-reads the counters, caps the discount to what is left of the money budget and updates
the counters in the same transaction as the caller's order: two checkouts can never both take the
last redemption, and a rolled-back order gives its redemption back.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from .models import CouponCode, Promotion, Redemption
from .pricing import money


class RedemptionRefused(Exception):
    """The promotion can no longer be used for this order; the message says why, for the customer."""


def redeem(
    promotion_id: int,
    discount: Decimal,
    *,
    order_ref: str,
    order_total: Decimal = Decimal(0),
    visitor_id: str = "",
    user_id: int | None = None,
    code: str = "",
    email: str = "",
    session_key: str = "",
) -> Redemption:
    """Record the use of a promotion in an order; returns the redemption with the discount granted
    (capped to the budget left). Must run inside the caller's transaction to be atomic with it."""
    with transaction.atomic():
        promotion = Promotion.objects.select_for_update().get(pk=promotion_id)
        if promotion.max_redemptions is not None and promotion.redemptions_count >= promotion.max_redemptions:
            raise RedemptionRefused(_("The offer “%(name)s” has run out.") % {"name": promotion.localized_message})
        granted = money(discount)
        if promotion.budget_left is not None:
            granted = min(granted, promotion.budget_left)
            if granted <= 0 and discount > 0:
                raise RedemptionRefused(_("The offer “%(name)s” has run out.") % {"name": promotion.localized_message})
        if (
            promotion.per_customer_limit is not None
            and customer_uses(promotion, visitor_id, user_id, email, session_key) >= promotion.per_customer_limit
        ):
            raise RedemptionRefused(
                _("You have already used the offer “%(name)s”.") % {"name": promotion.localized_message}
            )
        coupon = _take_code(promotion, code) if code else None
        Promotion.objects.filter(pk=promotion.pk).update(
            redemptions_count=F("redemptions_count") + 1, discount_spent=F("discount_spent") + granted
        )
        return Redemption.objects.create(
            promotion=promotion,
            code=coupon,
            order_ref=order_ref,
            visitor_id=visitor_id,
            user_id=user_id,
            email_hash=customer_hash(email),
            session_hash=customer_hash(session_key),
            discount=granted,
            order_total=order_total,
        )


def customer_hash(value: str) -> str:
    """A keyed hash of an e-mail address or session key ("" for none); e-mails ignore case."""
    value = (value or "").strip().lower()
    return salted_hmac("promotions.offers.customer", value).hexdigest() if value else ""


def customer_uses(
    promotion: Promotion, visitor_id: str = "", user_id: int | None = None, email: str = "", session_key: str = ""
) -> int:
    """How many unrefunded redemptions of ``promotion`` belong to this customer: the same visitor,
    user, e-mail or session (any of them; tracking consent is not needed to enforce a limit)."""
    person = Q(pk__in=[])
    if visitor_id:
        person |= Q(visitor_id=visitor_id)
    if user_id is not None:
        person |= Q(user_id=user_id)
    if email:
        person |= Q(email_hash=customer_hash(email))
    if session_key:
        person |= Q(session_hash=customer_hash(session_key))
    return promotion.redemptions.filter(person, refunded_at__isnull=True).count()


def _take_code(promotion: Promotion, code: str) -> CouponCode:
    coupon = CouponCode.objects.select_for_update().filter(promotion=promotion, code=code.strip().upper()).first()
    if coupon is None:
        raise RedemptionRefused(_("The code %(code)s is not valid.") % {"code": code})
    if coupon.single_use and coupon.used >= 1:
        raise RedemptionRefused(_("The code %(code)s has already been used.") % {"code": coupon.code})
    CouponCode.objects.filter(pk=coupon.pk).update(used=F("used") + 1)
    return coupon


def refund(redemption: Redemption) -> bool:
    """Give a redemption's discount and use back to the budget; False if it was already refunded."""
    with transaction.atomic():
        locked = Redemption.objects.select_for_update().get(pk=redemption.pk)
        if locked.refunded_at is not None:
            return False
        Promotion.objects.select_for_update().filter(pk=locked.promotion_id).update(
            redemptions_count=F("redemptions_count") - 1, discount_spent=F("discount_spent") - locked.discount
        )
        if locked.code_id is not None:
            CouponCode.objects.filter(pk=locked.code_id).update(used=F("used") - 1)
        locked.refunded_at = timezone.now()
        locked.save(update_fields=["refunded_at"])
    redemption.refunded_at = locked.refunded_at
    return True
