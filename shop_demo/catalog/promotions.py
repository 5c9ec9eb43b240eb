"""Example promotions for the demo shop, so personalization is visible from the first page."""

from __future__ import annotations

from decimal import Decimal

from promotions.models import CouponCode, Promotion
from shop_demo.models import Product

#: (name, message, Simplified Chinese message, kind, value, target categories, extra fields)
EXAMPLES = [
    ("Candles & Lights 20%", "20% off candles and lights", "蜡烛和灯饰八折", "percentage", "20",
     ["Candles & Lights"], {}),
    ("Mugs 3 for 2", "Mugs and cups: buy 2, get 1 free", "杯子买二送一", "buy_x_get_y", "0", ["Mugs & Cups"],
     {"buy_quantity": 2, "get_quantity": 1}),
    ("Baking 15%", "15% off baking", "烘焙用品八五折", "percentage", "15", ["Baking"], {}),
    ("Christmas £5 off", "£5 off Christmas decorations", "圣诞装饰立减5英镑", "fixed_amount", "5", ["Christmas"],
     {"min_cart_value": Decimal("25.00")}),
    ("Bags 10%", "10% off bags and purses", "包袋九折", "percentage", "10", ["Bags & Purses"], {}),
    ("Free shipping", "Free shipping on orders over £40", "订单满40英镑包邮", "free_shipping", "0", [],
     {"min_cart_value": Decimal("40.00"), "slots": ["cart", "home"]}),
    ("Welcome code", "New here? 10% off with code WELCOME10", "新顾客使用优惠码 WELCOME10 享九折", "percentage",
     "10", [],
     {"coupon_required": True, "audience": "new", "per_customer_limit": 1, "exclusive": True}),
]  # fmt: skip


def create_example_promotions() -> int:
    """Create the examples that do not exist yet (by name); returns how many were created.

    An example for a category the catalogue has no product in is left out (the built-in sample has
    no baking products): an offer with nothing to buy and nowhere to go is not an example. It is
    created by a later call, once the catalogue has that category's products.
    """
    stocked = set(Product.objects.values_list("category__name", flat=True).distinct())
    created = 0
    for name, message, message_zh, kind, value, categories, extra in EXAMPLES:
        if Promotion.objects.filter(name=name).exists() or not set(categories) <= stocked:
            continue
        promotion = Promotion.objects.create(
            name=name,
            message=message,
            message_zh_hans=message_zh,
            kind=kind,
            value=Decimal(value),
            target_kind="categories" if categories else "all",
            target_values=categories,
            status=Promotion.Status.ACTIVE,
            max_discount_total=Decimal("500.00"),
            **extra,
        )
        if promotion.coupon_required:
            CouponCode.objects.create(promotion=promotion, code="WELCOME10")
        created += 1
    return created
