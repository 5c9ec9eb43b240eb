"""The session cart, and the paid order it becomes at checkout.

The cart lives in ``request.session["cart"]`` as ``{stock_code: quantity}``; the context
processor reads the same key for the item count in the header.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from promotions import checkout

from .models import Order, OrderLine, Product

SESSION_KEY = "cart"
COUPON_SESSION_KEY = "cart_coupon"
#: How many orders this session's carts became: part of the checkout key, so the next cart gets a new one.
GENERATION_SESSION_KEY = "cart_generation"
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
        self.session[GENERATION_SESSION_KEY] = self.session.get(GENERATION_SESSION_KEY, 0) + 1

    @property
    def checkout_key(self) -> str:
        """The idempotency key of this cart's order: the same for every submit of this cart, however
        many run at once (they all read the same session), new once the cart became an order."""
        if self.session.session_key is None:
            self.session.save()
        seed = f"{self.session.session_key}:{self.session.get(GENERATION_SESSION_KEY, 0)}"
        return hashlib.sha256(seed.encode()).hexdigest()

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


def basket_lines(lines: list[CartLine]) -> list[checkout.BasketLine]:
    """The cart lines as the checkout contract takes them: the price charged now; category and
    brand come from the product adapter."""
    return [checkout.BasketLine(line.product.stock_code, line.quantity, line.unit_price) for line in lines]


def shipping_fee(lines: list[CartLine]) -> Decimal:
    return SHIPPING_FEE if lines else Decimal("0.00")


def price_lines(request: HttpRequest, cart: Cart, lines: list[CartLine]) -> checkout.PricedBasket:
    """Price the lines with every promotion the visitor may use (and the cart's coupon code)."""
    return checkout.price_basket(
        request, basket_lines(lines), codes=[cart.coupon_code] if cart.coupon_code else [], shipping=shipping_fee(lines)
    )


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


def charge_card(card_number: str, amount: Decimal) -> None:
    """The simulated payment provider: cards ending in 0000 are declined, every other is charged."""
    if card_number.endswith("0000"):
        raise PaymentDeclined(amount)


def place_order(
    request: HttpRequest, cart: Cart, *, email: str, shipping_address: str, card_number: str, quote: str = ""
) -> tuple[Order, bool]:
    """Charge the card and record the cart as a paid order at the prices and discounts the shopper
    was quoted, then empty the cart; returns the order and whether this call placed it.

    One cart becomes one order: every submit of the cart carries its checkout key (unique on the
    order), so a double-click or a retry gets the order the first submit placed. Everything happens
    in one transaction with the promotions' ``checkout.redeem``: a promotion that ran out since the
    quote raises a ``promotions.checkout.CheckoutError`` (with the new basket) before any charge,
    and a refused checkout leaves no order and no redemption behind. Without a ``quote`` (a submit
    that never showed a price) the cart is priced now.
    """
    user: AbstractBaseUser | AnonymousUser = request.user
    key = cart.checkout_key
    with transaction.atomic():
        placed = Order.objects.filter(checkout_key=key).first()
        if placed is not None:
            return placed, False
        # Locked rows keep price and stock from changing between the check and the order.
        lines = cart.lines(Product.objects.select_for_update())
        if not lines:
            raise EmptyCart()
        unavailable = out_of_stock(lines)
        if unavailable:
            raise OutOfStock(unavailable)
        codes = [cart.coupon_code] if cart.coupon_code else []
        quote = quote or price_lines(request, cart, lines).quote
        try:
            with transaction.atomic():
                order = Order.objects.create(
                    user=user if user.is_authenticated else None,
                    created_at=timezone.now(),
                    status=Order.Status.PAID,
                    email=email,
                    shipping_address=shipping_address,
                    shipping=shipping_fee(lines),
                    checkout_key=key,
                )
        except IntegrityError:  # a concurrent submit of this cart placed it first
            return Order.objects.get(checkout_key=key), False
        redemptions = checkout.redeem(
            request,
            basket_lines(lines),
            codes=codes,
            quote=quote,
            order_id=str(order.pk),
            email=email,
            shipping=order.shipping,
        )
        order.discount = sum((redemption.discount for redemption in redemptions), Decimal("0.00"))
        order.save(update_fields=["discount"])
        OrderLine.objects.bulk_create(
            OrderLine(order=order, product=line.product, quantity=line.quantity, unit_price=line.unit_price)
            for line in lines
        )
        charge_card(card_number, cart_total(lines) + order.shipping - order.discount)
    cart.clear()
    return order, True
