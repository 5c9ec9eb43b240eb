"""The checkout contract: what a shopper is shown is exactly what they are charged.

A framework-neutral, public API for any shop's cart and checkout (the demo shop and
``promotions.contrib.oscar`` use nothing else):

* :func:`price_basket` prices basket lines for a request or an explicit :class:`Shopper`: each line's
  discount, each applied promotion (:class:`AppliedDiscount`), the promotions that do not apply and
  why (:class:`NotApplied`), and a signed ``quote`` of exactly what was shown;
* :func:`redeem`, called at order placement inside the shop's own database transaction, locks the
  promotions and codes involved, prices the basket again and either records exactly the quoted
  discounts (redemptions, budgets, single-use codes) or raises a :class:`CheckoutError` subclass
  whose ``message`` the shop shows with ``new_basket`` (the current price) before charging anything;
* :func:`refund` gives an order's discounts back to the budgets (cancellation, refund).

``docs/checkout.md`` has the example cart and checkout views.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

from django.core import signing
from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .offers import budget, pricing, replenish
from .offers import service as offers
from .offers.models import CouponCode, Promotion, Redemption

__all__ = [
    "AppliedDiscount",
    "BasketLine",
    "BudgetSpent",
    "CheckoutError",
    "CodeAlreadyUsed",
    "CustomerLimitReached",
    "NotApplied",
    "PriceChanged",
    "PricedBasket",
    "PricedLine",
    "PromotionEnded",
    "Redemption",
    "Shopper",
    "price_basket",
    "redeem",
    "refund",
]

ZERO = Decimal("0")
QUOTE_SALT = "promotions.checkout.quote"

# Why a promotion does not apply (``NotApplied.reason``): stable slugs a shop may branch on.
UNKNOWN_CODE = "unknown_code"
CODE_USED = "code_used"
ENDED = "ended"
BUDGET_SPENT = "budget_spent"
CUSTOMER_LIMIT = "customer_limit"
SIGNED_IN_ONLY = "signed_in_only"
MIN_BASKET_VALUE = "min_basket_value"
NOT_ELIGIBLE = "not_eligible"
NOT_IN_BASKET = "not_in_basket"
BETTER_OFFER = "better_offer"


# --- What goes in and out --------------------------------------------------------------


@dataclass(frozen=True)
class Shopper:
    """Who is buying, for eligibility and "uses per customer" limits.

    Any of ``visitor_id`` (tracking cookie, only with consent), ``user_id``, ``email`` and
    ``session_key`` identifies the customer for limits: a redemption by any of them counts.
    Build one with :meth:`from_request`, or explicitly where there is no request (server-side
    order placement, an Oscar ``post_checkout`` handler, a job).
    """

    visitor_id: str | None = None
    user_id: int | None = None
    email: str = ""
    session_key: str = ""
    #: Visited before this visit (promotions for new or returning visitors).
    returning: bool = False
    #: Tracking consent given (frequency caps are only counted then).
    tracked: bool = False

    @classmethod
    def from_request(cls, request: HttpRequest, *, email: str = "") -> Shopper:
        """The shopper of ``request``; ``email`` defaults to the signed-in user's address."""
        base = offers.Shopper.from_request(request)
        user = getattr(request, "user", None)
        session = getattr(request, "session", None)  # absent without SessionMiddleware
        return cls(
            visitor_id=base.visitor_id,
            user_id=base.user_id,
            email=email or (getattr(user, "email", "") if base.user_id is not None else "") or "",
            session_key=getattr(session, "session_key", None) or "",
            returning=base.returning,
            tracked=base.tracked,
        )

    def _eligibility(self) -> offers.Shopper:
        return offers.Shopper(self.visitor_id, self.user_id, self.returning, self.tracked)


@dataclass(frozen=True)
class BasketLine:
    """A basket line as the shop hands it over.

    When ``unit_price`` is left out, or both ``category`` and ``brand`` are, the missing values are
    read from the product adapter (``PROMOTIONS["PRODUCT_ADAPTER"]``) by ``item_id``; given values
    are used as they are (pass the price the order will be charged).
    """

    item_id: str
    quantity: int
    unit_price: Decimal | None = None
    category: str = ""
    brand: str = ""


@dataclass(frozen=True)
class PricedLine:
    item_id: str
    quantity: int
    unit_price: Decimal
    discount: Decimal
    category: str = ""
    brand: str = ""

    @property
    def subtotal(self) -> Decimal:
        return self.unit_price * self.quantity

    @property
    def total(self) -> Decimal:
        return self.subtotal - self.discount


@dataclass(frozen=True)
class AppliedDiscount:
    """A promotion applied to the basket: its total ``amount``, split per line (``line_amounts``, in
    the order of the basket's lines) and on shipping; ``code`` is the coupon code that unlocked it."""

    promotion_id: int
    name: str
    message: str
    code: str
    amount: Decimal
    line_amounts: tuple[Decimal, ...]
    shipping_amount: Decimal = ZERO


@dataclass(frozen=True)
class NotApplied:
    """A promotion (or an entered code) that gives no discount here; ``reason`` is one of the slugs
    above, ``message`` says why, translated, for the shopper."""

    promotion_id: int | None
    name: str
    code: str
    reason: str
    message: str


@dataclass(frozen=True)
class PricedBasket:
    lines: tuple[PricedLine, ...]
    subtotal: Decimal
    discount: Decimal
    shipping: Decimal
    shipping_discount: Decimal
    total: Decimal
    applied: tuple[AppliedDiscount, ...]
    not_applied: tuple[NotApplied, ...]
    #: Signed token of what was shown (applied promotions, codes, amounts, total): pass it to redeem().
    quote: str
    #: The codes as entered, normalized (upper case, no spaces), in order.
    codes: tuple[str, ...] = ()

    def applied_codes(self) -> set[str]:
        return {applied.code for applied in self.applied if applied.code}

    def not_applied_for(self, code: str) -> NotApplied | None:
        """Why the entered ``code`` gives no discount, or None (it applies, or was not entered)."""
        code = _normalize(code)
        return next((entry for entry in self.not_applied if entry.code == code), None)


# --- Errors ----------------------------------------------------------------------------


class CheckoutError(Exception):
    """The order cannot be placed at the price the shopper saw. Show ``message`` (translated) and
    ``new_basket`` (the price now, with its own quote) and let the shopper confirm again."""

    reason = "checkout_error"

    def __init__(self, message: str, new_basket: PricedBasket | None = None, promotion_id: int | None = None):
        super().__init__(message)
        self.message = message
        self.new_basket = new_basket
        self.promotion_id = promotion_id


class PromotionEnded(CheckoutError):
    reason = ENDED


class BudgetSpent(CheckoutError):
    """The promotion's money budget or its number of redemptions ran out."""

    reason = BUDGET_SPENT


class CodeAlreadyUsed(CheckoutError):
    reason = CODE_USED


class CustomerLimitReached(CheckoutError):
    reason = CUSTOMER_LIMIT


class PriceChanged(CheckoutError):
    """Anything else differs from the quote (a price, a new promotion, a missing or forged quote)."""

    reason = "price_changed"


_ERRORS: dict[str, type[CheckoutError]] = {
    ENDED: PromotionEnded,
    BUDGET_SPENT: BudgetSpent,
    CODE_USED: CodeAlreadyUsed,
    CUSTOMER_LIMIT: CustomerLimitReached,
}


# --- Pricing ---------------------------------------------------------------------------


def price_basket(
    request_or_shopper: HttpRequest | Shopper,
    lines: Sequence[BasketLine],
    *,
    codes: Iterable[str] = (),
    shipping: Decimal = ZERO,
) -> PricedBasket:
    """The basket priced with the best combination of promotions the shopper may use now.

    Reads the live promotions from this process's short cache (``offers.service``): fine to show;
    :func:`redeem` prices again from locked rows.
    """
    shopper, request = _resolve(request_or_shopper)
    return _price(shopper, request, _complete(lines), _codes(codes), shipping, offers.live_promotions())


def _resolve(request_or_shopper: HttpRequest | Shopper, email: str = "") -> tuple[Shopper, HttpRequest | None]:
    if isinstance(request_or_shopper, Shopper):
        shopper = request_or_shopper
        if email and not shopper.email:
            shopper = replace(shopper, email=email)
        return shopper, None
    return Shopper.from_request(request_or_shopper, email=email), request_or_shopper


def _normalize(code: str) -> str:
    return (code or "").strip().upper()


def _codes(codes: Iterable[str]) -> tuple[str, ...]:
    if isinstance(codes, str):  # one code passed bare: not its characters
        codes = [codes]
    return tuple(dict.fromkeys(c for c in (_normalize(code) for code in codes) if c))


def _complete(lines: Sequence[BasketLine]) -> list[pricing.Line]:
    """Pricing lines, with what the shop left out read from the product adapter."""
    missing = [line.item_id for line in lines if line.unit_price is None or not (line.category or line.brand)]
    infos = {}
    if missing:
        from .products import get_adapter

        adapter = get_adapter()
        infos = {item_id: adapter.info(product) for item_id, product in adapter.get_by_ids(missing).items()}
    result = []
    for line in lines:
        if line.quantity < 1:
            raise ValueError(f"quantity of {line.item_id!r} must be at least 1, not {line.quantity}")
        info = infos.get(line.item_id)
        unit_price = line.unit_price if line.unit_price is not None else (info.price if info else None)
        if unit_price is None:
            raise ValueError(f"no price for {line.item_id!r}: the product adapter does not know it")
        category = line.category or (info.category if info else "") or ""
        brand = line.brand or (info.brand if info else "") or ""
        result.append(pricing.Line(line.item_id, Decimal(unit_price), line.quantity, category, brand))
    return result


def _covers(promotion: Promotion, lines: Sequence[pricing.Line]) -> bool:
    target = promotion.target
    return any(target.covers(line.item_id, line.category, line.brand) for line in lines)


def _why_not(promotion: Promotion, shopper: Shopper, request: HttpRequest | None, subtotal: Decimal) -> str | None:
    """Why the shopper may not use ``promotion`` on this basket now (a reason slug), or None."""
    if promotion.status != Promotion.Status.ACTIVE or not offers.in_schedule(promotion):
        return ENDED
    if promotion.budget_exhausted:
        return BUDGET_SPENT
    if promotion.signed_in_only and shopper.user_id is None:
        return SIGNED_IN_ONLY
    if promotion.min_cart_value is not None and subtotal < promotion.min_cart_value:
        return MIN_BASKET_VALUE
    if promotion.per_customer_limit is not None and (
        budget.customer_uses(promotion, shopper.visitor_id or "", shopper.user_id, shopper.email, shopper.session_key)
        >= promotion.per_customer_limit
    ):
        return CUSTOMER_LIMIT
    if not offers.is_eligible(promotion, shopper._eligibility(), request, cart_value=subtotal, for_display=False):
        return NOT_ELIGIBLE
    return None


_MESSAGES = {
    UNKNOWN_CODE: gettext_lazy("The code %(code)s is not valid."),
    CODE_USED: gettext_lazy("The code %(code)s has already been used."),
    ENDED: gettext_lazy("The offer “%(name)s” has ended."),
    BUDGET_SPENT: gettext_lazy("The offer “%(name)s” has run out."),
    CUSTOMER_LIMIT: gettext_lazy("You have already used the offer “%(name)s”."),
    SIGNED_IN_ONLY: gettext_lazy("The offer “%(name)s” is for signed-in customers; please sign in."),
    MIN_BASKET_VALUE: gettext_lazy("The offer “%(name)s” needs a larger order."),
    NOT_IN_BASKET: gettext_lazy("The offer “%(name)s” does not cover the products in your cart."),
    BETTER_OFFER: gettext_lazy("The offer “%(name)s” does not combine with “%(winner)s”, which gives you more."),
    NOT_ELIGIBLE: gettext_lazy("The offer “%(name)s” is not available to you."),
}


def _message(reason: str, promotion: Promotion | None, code: str, winner: Promotion | None = None) -> str:
    """Why, for the shopper, in the active language."""
    values = {
        "code": code,
        "name": promotion.localized_message if promotion is not None else "",
        "winner": winner.localized_message if winner is not None else "",
    }
    return str(_MESSAGES.get(reason, _MESSAGES[NOT_ELIGIBLE])) % values


def _price(
    shopper: Shopper,
    request: HttpRequest | None,
    lines: list[pricing.Line],
    codes: tuple[str, ...],
    shipping: Decimal,
    live: Iterable[Promotion],
) -> PricedBasket:
    subtotal = sum((line.unit_price * line.quantity for line in lines), ZERO)
    not_applied: list[NotApplied] = []
    coupons = {c.code: c for c in CouponCode.objects.filter(code__in=codes).select_related("promotion")}
    unlocked: dict[int, str] = {}  # promotion id -> the entered code that unlocks it
    for code in codes:
        coupon = coupons.get(code)
        if coupon is None:
            not_applied.append(NotApplied(None, "", code, UNKNOWN_CODE, _message(UNKNOWN_CODE, None, code)))
        elif coupon.single_use and coupon.used >= 1:
            promotion = coupon.promotion
            not_applied.append(
                NotApplied(promotion.pk, promotion.name, code, CODE_USED, _message(CODE_USED, promotion, code))
            )
        else:
            unlocked.setdefault(coupon.promotion_id, code)
    live = {promotion.pk: promotion for promotion in live}
    # A code's promotion that is no longer live is reported (ended, paused), not silently ignored.
    considered = list(live.values()) + [coupons[code].promotion for pk, code in unlocked.items() if pk not in live]
    # A replenishment promotion covers the items due for this shopper (none due: it covers nothing).
    considered = replenish.personalize(considered, shopper.visitor_id, shopper.user_id, keep_empty=True)
    candidates: dict[int, pricing.Terms] = {}
    by_id: dict[int, Promotion] = {}
    for promotion in considered:
        if promotion.kind == Promotion.Kind.BANNER or (promotion.coupon_required and promotion.pk not in unlocked):
            continue
        by_id[promotion.pk] = promotion
        code = unlocked.get(promotion.pk, "")
        reason = _why_not(promotion, shopper, request, subtotal)
        if reason is None:
            candidates[promotion.pk] = promotion.terms(getattr(promotion, "stacking_ids", frozenset()))
        elif code or (reason in (BUDGET_SPENT, CUSTOMER_LIMIT) and _covers(promotion, lines)):
            message = _message(reason, promotion, code)
            not_applied.append(NotApplied(promotion.pk, promotion.name, code, reason, message))
    priced = pricing.price_cart(lines, candidates.values(), shipping)
    winner = by_id[max(priced.applied, key=priced.by_promotion.__getitem__)] if priced.applied else None
    for pk, terms in candidates.items():
        if pk in priced.applied:
            continue
        promotion, code = by_id[pk], unlocked.get(pk, "")
        alone = pricing.price_cart(lines, [terms], shipping)
        if alone.discount > 0 and winner is not None:
            reason = BETTER_OFFER
        elif code:
            reason = NOT_IN_BASKET
        else:
            continue  # an automatic promotion for other products: nothing to say
        not_applied.append(NotApplied(pk, promotion.name, code, reason, _message(reason, promotion, code, winner)))
    applied = tuple(
        AppliedDiscount(
            promotion_id=pk,
            name=by_id[pk].name,
            message=by_id[pk].localized_message,
            code=unlocked.get(pk, ""),
            amount=priced.by_promotion[pk],
            line_amounts=tuple(priced.line_discounts_by_promotion[pk]),
            shipping_amount=priced.shipping_discount_by_promotion[pk],
        )
        for pk in priced.applied
    )
    priced_lines = tuple(
        PricedLine(line.item_id, line.quantity, line.unit_price, discount, line.category, line.brand)
        for line, discount in zip(lines, priced.line_discounts, strict=True)
    )
    basket = PricedBasket(
        lines=priced_lines,
        subtotal=priced.subtotal,
        discount=priced.discount,
        shipping=shipping,
        shipping_discount=priced.shipping_discount,
        total=priced.total,
        applied=applied,
        not_applied=tuple(not_applied),
        quote="",
        codes=codes,
    )
    return _with_quote(basket)


def _quoted(basket: PricedBasket) -> dict:
    """What the quote vouches for: the discounts (promotion, code, amount) and the totals."""
    # In cents: 10 and 10.00 are the same price, whichever way the shop writes it.
    return {
        "a": sorted([a.promotion_id, a.code, str(pricing.money(a.amount))] for a in basket.applied),
        "d": str(pricing.money(basket.discount)),
        "t": str(pricing.money(basket.total)),
    }


def _with_quote(basket: PricedBasket) -> PricedBasket:
    return replace(basket, quote=signing.dumps(_quoted(basket), salt=QUOTE_SALT, compress=True))


def read_quote(quote: str) -> dict | None:
    """The content of a quote made by :func:`price_basket`, or None if it is missing or forged."""
    try:
        return signing.loads(quote or "", salt=QUOTE_SALT)
    except signing.BadSignature:
        return None


# --- Order placement -------------------------------------------------------------------


def redeem(
    request_or_shopper: HttpRequest | Shopper,
    lines: Sequence[BasketLine],
    *,
    codes: Iterable[str] = (),
    quote: str,
    order_id: str,
    email: str = "",
    shipping: Decimal = ZERO,
) -> list[Redemption]:
    """Record the quoted discounts for order ``order_id``, or raise a :class:`CheckoutError`.

    Call it inside the transaction that creates the order (``transaction.atomic()``), before
    charging: it locks the rows of the promotions and codes involved (``SELECT ... FOR UPDATE``),
    prices the basket again from them and compares with ``quote``. Equal: the redemptions are
    recorded, budgets and single-use codes taken. Different: the matching error is raised with the
    new basket; the caller's transaction should roll back and the shopper confirm the new total.
    ``lines``, ``codes`` and ``shipping`` are the ones given to :func:`price_basket` for the quote.
    Calling it again for the same ``order_id`` returns the redemptions already recorded.
    """
    shopper, request = _resolve(request_or_shopper, email)
    order_id = str(order_id)
    codes = _codes(codes)
    with transaction.atomic():
        done = list(Redemption.objects.filter(order_ref=order_id).order_by("pk"))
        if done:
            return done
        shown = read_quote(quote)
        quoted_ids = {int(entry[0]) for entry in (shown or {}).get("a", [])}
        coupon_ids = set(CouponCode.objects.filter(code__in=codes).values_list("promotion_id", flat=True))
        # Locks in primary key order (promotions, then codes), as budget.redeem takes them: no deadlock.
        locked = {
            p.pk: p for p in Promotion.objects.select_for_update().filter(pk__in=quoted_ids | coupon_ids).order_by("pk")
        }
        list(CouponCode.objects.select_for_update().filter(code__in=codes).order_by("pk"))
        offers.forget_live_promotions()  # price from the rows as they are now, not this process's cache
        basket = _price(shopper, request, _complete(lines), codes, shipping, offers.load_live_promotions())
        if shown is None or _quoted(basket) != shown:
            raise _difference(shown, basket, locked)
        redemptions = []
        for applied in basket.applied:
            try:
                redemption = budget.redeem(
                    applied.promotion_id,
                    applied.amount,
                    order_ref=order_id,
                    order_total=basket.total,
                    visitor_id=shopper.visitor_id or "",
                    user_id=shopper.user_id,
                    code=applied.code,
                    email=shopper.email,
                    session_key=shopper.session_key,
                )
            except budget.RedemptionRefused as refused:  # checked under the same locks: not expected
                raise PriceChanged(str(refused), basket, applied.promotion_id) from refused
            if redemption.discount != applied.amount:
                raise BudgetSpent(_message(BUDGET_SPENT, locked.get(applied.promotion_id), applied.code), basket)
            redemptions.append(redemption)
        return redemptions


def _difference(shown: dict | None, basket: PricedBasket, locked: dict[int, Promotion]) -> CheckoutError:
    """The error that explains why ``basket`` differs from the quote ``shown``."""
    now = {applied.promotion_id: applied for applied in basket.applied}
    for pk, code, amount in (shown or {}).get("a", []):
        current = now.get(pk)
        if current is not None and current.amount >= Decimal(amount):
            continue
        promotion = locked.get(pk)
        if promotion is None:  # deleted since
            return PromotionEnded(_message(ENDED, None, code) + " " + _confirm(), basket, pk)
        missing = next((entry for entry in basket.not_applied if entry.promotion_id == pk), None)
        reason = missing.reason if missing is not None else None
        if reason is None and (promotion.status != Promotion.Status.ACTIVE or not offers.in_schedule(promotion)):
            reason = ENDED  # an automatic promotion that is no longer live is not even considered
        elif reason is None and (
            promotion.budget_exhausted
            or (promotion.budget_left is not None and promotion.budget_left < Decimal(amount))
        ):
            reason = BUDGET_SPENT  # gone, or still applies capped by what is left of the budget
        error = _ERRORS.get(reason or "", PriceChanged)
        message = missing.message if missing is not None else _message(reason or "", promotion, code)
        if error is PriceChanged:
            message = _("The discounts in your cart have changed.")
        return error(message + " " + _confirm(), basket, pk)
    return PriceChanged(_("The price of your order has changed.") + " " + _confirm(), basket)


def _confirm() -> str:
    return _("Please check the new total and confirm your order.")


def refund(order_id: str) -> Decimal:
    """Give back to the budgets every discount of order ``order_id`` not yet refunded (the order was
    cancelled or refunded); returns the amount given back. Calling it twice gives back nothing more."""
    returned = ZERO
    for redemption in Redemption.objects.filter(order_ref=str(order_id), refunded_at__isnull=True):
        if budget.refund(redemption):
            returned += redemption.discount
    return returned
