"""The session cart, and the paid order it becomes at checkout.

The cart lives in ``request.session["cart"]`` as ``{stock_code: quantity}``; the context
processor reads the same key for the item count in the header.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from promotions.offers import service as promotion_service
from promotions.offers.budget import RedemptionRefused, redeem
from promotions.offers.models import Promotion
from promotions.offers.pricing import PricedCart
from promotions.offers.service import CartLineInput

from .models import Order, OrderLine, Product

SESSION_KEY = "cart"
COUPON_SESSION_KEY = "cart_coupon"
#: The demo's flat delivery fee (a free-shipping promotion takes it off).
SHIPPING_FEE = Decimal("4.95")
#: The most of one product a cart holds; enough for a shop, small enough to stop typos.
MAX_QUANTITY = 99


@dataclass(frozen=True)
class CartLine:
    product: Product
    quantity: int

    @property
    def unit_price(self) -> Decimal:
        return self.product.price

    @property
    def line_total(self) -> Decimal:
        return self.unit_price * self.quantity


class Cart:
    """The visitor's cart: quantities by stock code, kept in the session."""

    def __init__(self, request: HttpRequest):
        self.session = request.session
        self.quantities: dict[str, int] = dict(self.session.get(SESSION_KEY, {}))

    def __len__(self) -> int:
        return sum(self.quantities.values())

    def __bool__(self) -> bool:
        return bool(self.quantities)

    def add(self, product: Product, quantity: int = 1) -> None:
        current = self.quantities.get(product.stock_code, 0)
        self.set(product, current + quantity)

    def set(self, product: Product, quantity: int) -> None:
        """Set the product's quantity, capped at MAX_QUANTITY; zero or less removes it."""
        if quantity <= 0:
            self.remove(product)
            return
        self.quantities[product.stock_code] = min(quantity, MAX_QUANTITY)
        self._save()

    def remove(self, product: Product) -> None:
        self.quantities.pop(product.stock_code, None)
        self._save()

    def clear(self) -> None:
        self.quantities = {}
        self._save()
        self.session.pop(COUPON_SESSION_KEY, None)

    @property
    def coupon_code(self) -> str:
        return self.session.get(COUPON_SESSION_KEY, "")

    def set_coupon_code(self, code: str) -> None:
        self.session[COUPON_SESSION_KEY] = code.strip().upper()

    def lines(self, products: QuerySet[Product] | None = None) -> list[CartLine]:
        """The cart's lines in title order; products deleted since they were added are left out."""
        products = Product.objects.all() if products is None else products
        found = products.filter(stock_code__in=self.quantities)
        return [CartLine(product, self.quantities[product.stock_code]) for product in found.order_by("title")]

    def _save(self) -> None:
        # Reassigning the key marks the session modified, so it is saved.
        self.session[SESSION_KEY] = self.quantities


def cart_total(lines: list[CartLine]) -> Decimal:
    return sum((line.line_total for line in lines), Decimal("0.00"))


@dataclass(frozen=True)
class AppliedPromotion:
    promotion: Promotion
    amount: Decimal

    @property
    def message(self) -> str:
        return self.promotion.localized_message


@dataclass(frozen=True)
class PricedLines:
    """The cart as it will be charged: discounts by promotion, shipping and the total."""

    priced: PricedCart
    applied: list[AppliedPromotion]
    codes: dict[int, str]

    @property
    def total(self) -> Decimal:
        return self.priced.total


def price_lines(request: HttpRequest, cart: Cart, lines: list[CartLine]) -> PricedLines:
    """Price the lines with every promotion the visitor may use (and the cart's coupon code)."""
    shipping = SHIPPING_FEE if lines else Decimal("0.00")
    priced, codes = promotion_service.price(
        request,
        promotion_service.to_pricing_lines(CartLineInput(line.product, line.quantity) for line in lines),
        codes=[cart.coupon_code] if cart.coupon_code else [],
        shipping=shipping,
    )
    by_id = {promotion.pk: promotion for promotion in Promotion.objects.filter(pk__in=priced.applied)}
    applied = [AppliedPromotion(by_id[pk], priced.by_promotion[pk]) for pk in priced.applied if pk in by_id]
    return PricedLines(priced, applied, codes)


def out_of_stock(lines: list[CartLine]) -> list[Product]:
    """The products of the lines that cannot be ordered now."""
    return [line.product for line in lines if not line.product.in_stock]


class CheckoutError(Exception):
    """Checkout refused; the message is shown to the customer."""


class EmptyCart(CheckoutError):
    pass


class OutOfStock(CheckoutError):
    """Some products went out of stock; ``products`` lists them."""

    def __init__(self, products: list[Product]):
        super().__init__(products)
        self.products = products


class PaymentDeclined(CheckoutError):
    pass


class PromotionUnavailable(CheckoutError):
    """A promotion in the cart ran out (budget, single-use code) between the cart and the payment."""


def charge_card(card_number: str, amount: Decimal) -> None:
    """The simulated payment provider: cards ending in 0000 are declined, every other is charged."""
    if card_number.endswith("0000"):
        raise PaymentDeclined(amount)


def place_order(request: HttpRequest, cart: Cart, *, email: str, shipping_address: str, card_number: str) -> Order:
    """Charge the card and record the cart as a paid order at current prices and discounts, then
    empty the cart.

    Everything happens in one transaction: a refused checkout leaves no order and no redemption
    behind, and each promotion's budget is taken under its row lock (``promotions.offers.budget``).
    """
    user: AbstractBaseUser | AnonymousUser = request.user
    with transaction.atomic():
        # Locked rows keep price and stock from changing between the check and the order.
        lines = cart.lines(Product.objects.select_for_update())
        if not lines:
            raise EmptyCart()
        unavailable = out_of_stock(lines)
        if unavailable:
            raise OutOfStock(unavailable)
        promotion_service.forget_live_promotions()  # price with fresh budgets, not this process's cache
        pricing = price_lines(request, cart, lines)
        order = Order.objects.create(
            user=user if user.is_authenticated else None,
            created_at=timezone.now(),
            status=Order.Status.PAID,
            email=email,
            shipping_address=shipping_address,
            shipping=pricing.priced.shipping,
            discount=pricing.priced.discount,
        )
        OrderLine.objects.bulk_create(
            OrderLine(order=order, product=line.product, quantity=line.quantity, unit_price=line.unit_price)
            for line in lines
        )
        _redeem(request, order, pricing)
        charge_card(card_number, pricing.total)
    cart.clear()
    return order


def _redeem(request: HttpRequest, order: Order, pricing: PricedLines) -> None:
    user = request.user
    for applied in pricing.applied:
        try:
            redemption = redeem(
                applied.promotion.pk,
                applied.amount,
                order_ref=str(order.pk),
                order_total=pricing.total,
                visitor_id=getattr(request, "visitor_id", None) or "",
                user_id=user.pk if user.is_authenticated else None,
                code=pricing.codes.get(applied.promotion.pk, ""),
            )
        except RedemptionRefused as refused:
            raise PromotionUnavailable(str(refused)) from refused
        if redemption.discount != applied.amount:
            # The budget capped it below what the cart showed: the customer must see the new total.
            raise PromotionUnavailable(
                _("The offer “%(name)s” is nearly used up; please check your cart again.") % {"name": applied.message}
            )
