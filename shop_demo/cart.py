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

from .models import Order, OrderLine, Product

SESSION_KEY = "cart"
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
    cart: Cart, *, user: AbstractBaseUser | AnonymousUser, email: str, shipping_address: str, card_number: str
) -> Order:
    """Charge the card and record the cart as a paid order at current prices, then empty the cart.

    Everything happens in one transaction: a refused checkout leaves no order behind.
    """
    with transaction.atomic():
        # Locked rows keep price and stock from changing between the check and the order.
        lines = cart.lines(Product.objects.select_for_update())
        if not lines:
            raise EmptyCart()
        unavailable = out_of_stock(lines)
        if unavailable:
            raise OutOfStock(unavailable)
        charge_card(card_number, cart_total(lines))
        order = Order.objects.create(
            user=user if user.is_authenticated else None,
            created_at=timezone.now(),
            status=Order.Status.PAID,
            email=email,
            shipping_address=shipping_address,
        )
        OrderLine.objects.bulk_create(
            OrderLine(order=order, product=line.product, quantity=line.quantity, unit_price=line.unit_price)
            for line in lines
        )
    cart.clear()
    return order
