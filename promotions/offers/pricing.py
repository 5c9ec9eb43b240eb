"""Which discounts a cart gets, in money: pure functions over plain dataclasses (no Django).

Order of application (docs/promotions.md states it):

1. Candidates are the promotions the cart is eligible for (schedule, status, audience, budget and
   coupon were checked by the caller).
2. Combinations: each exclusive promotion alone, and one stack of the non-exclusive ones built by
   priority (highest first), a promotion joining only when it may stack with every promotion
   already in (an empty ``stacks_with`` means "with any non-exclusive one"). The customer gets the
   combination with the largest total discount; ties go to the higher-priority promotion.
3. Within a combination, line discounts apply by priority, each on the price left after the
   earlier ones (so 20% off and then 5 off is not 5 off and then 20% off): fixed price first
   (it sets a price), then percentage, then bundles, then fixed amount, then buy X get Y; free
   shipping last. No line goes below zero.
4. A promotion's discount is capped to what is left of its budget.

Money is ``Decimal`` rounded half-up to the currency's cents at each promotion's line discount.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
#: Between a category and its sub-category in a category path ("Candles > Scented", as Oscar
#: writes it): a promotion for a category covers the products filed under its sub-categories.
CATEGORY_SEPARATOR = " > "
ZERO = Decimal("0")

PERCENTAGE = "percentage"
FIXED_AMOUNT = "fixed_amount"
FIXED_PRICE = "fixed_price"
BUY_X_GET_Y = "buy_x_get_y"
FREE_SHIPPING = "free_shipping"
BANNER = "banner"
#: These products together (the target's product set, one unit of each per set) at a price, or
#: with a percentage off the set.
BUNDLE_PRICE = "bundle_price"
BUNDLE_PERCENT = "bundle_percent"
BUNDLES = (BUNDLE_PRICE, BUNDLE_PERCENT)

#: Within one combination, promotions of these kinds apply in this order (then by priority).
KIND_ORDER = {
    FIXED_PRICE: 0,
    PERCENTAGE: 1,
    BUNDLE_PRICE: 2,
    BUNDLE_PERCENT: 2,
    FIXED_AMOUNT: 3,
    BUY_X_GET_Y: 4,
    FREE_SHIPPING: 5,
    BANNER: 6,
}


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Line:
    """One cart line: the product's id, what targeting looks at, unit price and quantity."""

    item_id: str
    unit_price: Decimal
    quantity: int
    category: str = ""
    brand: str = ""


@dataclass(frozen=True)
class Target:
    """Which products a promotion covers: all, or those in the given categories, brands or ids."""

    kind: str = "all"  # "all" | "categories" | "brands" | "products"
    values: frozenset[str] = frozenset()

    def covers(self, item_id: str, category: str = "", brand: str = "") -> bool:
        # Branches rather than a lookup table: serving asks this for every promotion x interest.
        kind = self.kind
        if kind == "all":
            return True
        if kind == "categories":
            if category in self.values:
                return True
            while CATEGORY_SEPARATOR in category:
                category = category.rsplit(CATEGORY_SEPARATOR, 1)[0]
                if category in self.values:
                    return True
            return False
        if kind == "brands":
            return brand in self.values
        return kind == "products" and item_id in self.values


@dataclass(frozen=True)
class Terms:
    """What a promotion gives, as the pricing engine needs it."""

    promotion_id: int
    kind: str
    value: Decimal = ZERO
    target: Target = Target()
    priority: int = 0
    exclusive: bool = False
    stacks_with: frozenset[int] = frozenset()
    buy_quantity: int = 0
    get_quantity: int = 0
    gift_item_id: str = ""
    budget_left: Decimal | None = None  # None: no money budget

    def may_stack_with(self, other: Terms) -> bool:
        if self.exclusive or other.exclusive:
            return False
        return (not self.stacks_with or other.promotion_id in self.stacks_with) and (
            not other.stacks_with or self.promotion_id in other.stacks_with
        )


@dataclass
class PricedCart:
    """The outcome: discount per line and per promotion, the shipping discount and the totals."""

    lines: list[Line]
    shipping: Decimal
    line_discounts: list[Decimal]
    shipping_discount: Decimal = ZERO
    by_promotion: dict[int, Decimal] = field(default_factory=dict)
    applied: list[int] = field(default_factory=list)
    #: Per applied promotion: its discount on each line, and on shipping.
    line_discounts_by_promotion: dict[int, list[Decimal]] = field(default_factory=dict)
    shipping_discount_by_promotion: dict[int, Decimal] = field(default_factory=dict)

    @property
    def subtotal(self) -> Decimal:
        return sum((line.unit_price * line.quantity for line in self.lines), ZERO)

    @property
    def discount(self) -> Decimal:
        return sum(self.line_discounts, ZERO) + self.shipping_discount

    @property
    def total(self) -> Decimal:
        return self.subtotal + self.shipping - self.discount


def _apply(
    terms: Terms, lines: Sequence[Line], remaining: list[Decimal], shipping_left: Decimal
) -> tuple[list[Decimal], Decimal]:
    """The discount ``terms`` gives on each line (and on shipping), given what is left to pay."""
    per_line = [ZERO] * len(lines)
    covered = [i for i, line in enumerate(lines) if terms.target.covers(line.item_id, line.category, line.brand)]
    shipping = ZERO
    if terms.kind == PERCENTAGE:
        rate = min(max(terms.value, ZERO), Decimal(100)) / 100
        for i in covered:
            per_line[i] = money(remaining[i] * rate)
    elif terms.kind == FIXED_PRICE:
        for i in covered:
            per_line[i] = max(ZERO, remaining[i] - money(terms.value * lines[i].quantity))
    elif terms.kind == FIXED_AMOUNT:
        left = max(terms.value, ZERO)
        for i in covered:  # spread over the covered lines in cart order until the amount is used
            per_line[i] = min(left, remaining[i])
            left -= per_line[i]
    elif terms.kind == BUY_X_GET_Y and terms.buy_quantity > 0 and terms.get_quantity > 0:
        per_line = _buy_x_get_y(terms, lines, remaining, covered)
    elif terms.kind in BUNDLES:
        per_line = _bundle(terms, lines, remaining)
    elif terms.kind == FREE_SHIPPING and covered:
        shipping = shipping_left
    return per_line, shipping


def _buy_x_get_y(terms: Terms, lines: Sequence[Line], remaining: list[Decimal], covered: list[int]) -> list[Decimal]:
    """For every ``buy`` covered units bought, ``get`` units free: the gift product when one is
    named (only as many as are in the cart), else the cheapest covered units."""
    per_line = [ZERO] * len(lines)
    bought = sum(lines[i].quantity for i in covered)
    if terms.gift_item_id:
        free = (bought // terms.buy_quantity) * terms.get_quantity
        candidates = [i for i, line in enumerate(lines) if line.item_id == terms.gift_item_id]
    else:
        free = (bought // (terms.buy_quantity + terms.get_quantity)) * terms.get_quantity
        candidates = covered
    for i in sorted(candidates, key=lambda i: remaining[i] / lines[i].quantity):
        if free <= 0:
            break
        units = min(free, lines[i].quantity)
        per_line[i] = money(remaining[i] / lines[i].quantity * units)
        free -= units
    return per_line


def _bundle(terms: Terms, lines: Sequence[Line], remaining: list[Decimal]) -> list[Decimal]:
    """Per complete set (one unit of each product of the bundle, from its first line in the cart):
    the set's price left to pay down to ``value`` (bundle price) or ``value`` percent off it. The
    discount is split over the products in proportion to their price, in cents, the last product
    taking the rounding; none below zero."""
    per_line = [ZERO] * len(lines)
    members = sorted(terms.target.values) if terms.target.kind == "products" else []
    first = {}
    for i, line in enumerate(lines):
        first.setdefault(line.item_id, i)
    if len(members) < 2 or any(item not in first for item in members):
        return per_line
    at = [first[item] for item in members]
    sets = min(lines[i].quantity for i in at)
    unit = [remaining[i] / lines[i].quantity for i in at]
    full = sum(unit, ZERO)
    if terms.kind == BUNDLE_PRICE:
        off = max(full - max(terms.value, ZERO), ZERO)
    else:
        off = full * min(max(terms.value, ZERO), Decimal(100)) / 100
    total = money(off * sets)
    if total <= 0 or full <= 0:
        return per_line
    left = total
    for n, (i, price) in enumerate(zip(at, unit, strict=True)):
        share = left if n == len(at) - 1 else money(total * price / full)
        per_line[i] = min(share, remaining[i])
        left -= per_line[i]
    return per_line


def _price(combination: Sequence[Terms], lines: Sequence[Line], shipping: Decimal) -> PricedCart:
    remaining = [line.unit_price * line.quantity for line in lines]
    shipping_left = shipping
    priced = PricedCart(lines=list(lines), shipping=shipping, line_discounts=[ZERO] * len(lines))
    for terms in sorted(combination, key=lambda t: (KIND_ORDER.get(t.kind, 9), -t.priority, t.promotion_id)):
        per_line, shipping_discount = _apply(terms, lines, remaining, shipping_left)
        wanted = sum(per_line, ZERO) + shipping_discount
        if terms.budget_left is not None and wanted > terms.budget_left:
            per_line, shipping_discount = _cap(per_line, shipping_discount, max(terms.budget_left, ZERO))
            wanted = sum(per_line, ZERO) + shipping_discount
        if wanted <= 0 and terms.kind != BANNER:
            continue
        for i, amount in enumerate(per_line):
            remaining[i] -= amount
            priced.line_discounts[i] += amount
        shipping_left -= shipping_discount
        priced.shipping_discount += shipping_discount
        priced.by_promotion[terms.promotion_id] = wanted
        priced.applied.append(terms.promotion_id)
        priced.line_discounts_by_promotion[terms.promotion_id] = per_line
        priced.shipping_discount_by_promotion[terms.promotion_id] = shipping_discount
    return priced


def _cap(per_line: list[Decimal], shipping: Decimal, limit: Decimal) -> tuple[list[Decimal], Decimal]:
    """Cut a discount down to ``limit``, taking from the lines in order, then from shipping."""
    capped = []
    for amount in per_line:
        take = min(amount, limit)
        capped.append(take)
        limit -= take
    return capped, min(shipping, limit)


def _combinations(candidates: Iterable[Terms]) -> list[list[Terms]]:
    ordered = sorted(candidates, key=lambda t: (-t.priority, t.promotion_id))
    combinations = [[terms] for terms in ordered if terms.exclusive]
    stack: list[Terms] = []
    for terms in ordered:
        if not terms.exclusive and all(terms.may_stack_with(other) for other in stack):
            stack.append(terms)
    if stack:
        combinations.append(stack)
    return combinations


def price_cart(lines: Sequence[Line], candidates: Iterable[Terms], shipping: Decimal = ZERO) -> PricedCart:
    """The cart priced with the best combination of ``candidates`` for the customer."""
    best = PricedCart(lines=list(lines), shipping=shipping, line_discounts=[ZERO] * len(lines))
    best_key = (ZERO, 0)
    for combination in _combinations(candidates):
        priced = _price(combination, lines, shipping)
        key = (priced.discount, max((t.priority for t in combination), default=0))
        if key > best_key or (not best.applied and priced.applied):
            best, best_key = priced, key
    return best
