"""The pricing engine on hand-computed carts (pure: no database)."""

from decimal import Decimal as D

from promotions.offers import pricing as p

MUGS = p.Line("MUG", D("10.00"), 3, category="Mugs", brand="Acme")
CANDLE = p.Line("CANDLE", D("4.00"), 1, category="Candles")


def terms(pid, kind, value="0", **kwargs):
    return p.Terms(pid, kind, D(value), **kwargs)


def test_percentage_applies_only_to_the_target_category():
    priced = p.price_cart(
        [MUGS, CANDLE], [terms(1, p.PERCENTAGE, "20", target=p.Target("categories", frozenset({"Mugs"})))]
    )
    assert priced.line_discounts == [D("6.00"), D("0")]
    assert priced.total == D("28.00")


def test_stacked_discounts_apply_in_the_documented_order():
    # 20% first (on 34.00 -> 6.80 off), then 5 off the remainder: 34 - 6.80 - 5 = 22.20,
    # whatever the order the promotions were given in.
    percent = terms(1, p.PERCENTAGE, "20")
    amount = terms(2, p.FIXED_AMOUNT, "5", priority=10)
    for candidates in ([percent, amount], [amount, percent]):
        priced = p.price_cart([MUGS, CANDLE], candidates)
        assert priced.by_promotion == {1: D("6.80"), 2: D("5")}
        assert priced.total == D("22.20")


def test_the_customer_gets_the_better_of_an_exclusive_promotion_and_the_stack():
    stack = [terms(1, p.PERCENTAGE, "10"), terms(2, p.FIXED_AMOUNT, "2")]
    small_exclusive = terms(3, p.PERCENTAGE, "12", exclusive=True)
    big_exclusive = terms(4, p.PERCENTAGE, "50", exclusive=True)
    assert p.price_cart([MUGS], [*stack, small_exclusive]).applied == [1, 2]  # 3 + 2 > 3.60
    assert p.price_cart([MUGS], [*stack, big_exclusive]).applied == [4]


def test_stacks_with_restricts_which_promotions_combine():
    a = terms(1, p.PERCENTAGE, "10", priority=5, stacks_with=frozenset({2}))
    b = terms(2, p.FIXED_AMOUNT, "1", stacks_with=frozenset({1}))
    c = terms(3, p.FIXED_AMOUNT, "1")  # may stack with any, but a only stacks with b
    assert p.price_cart([MUGS], [a, b, c]).applied == [1, 2]


def test_fixed_price_and_buy_x_get_y_cheapest_free():
    assert p.price_cart([MUGS], [terms(1, p.FIXED_PRICE, "7.50")]).discount == D("7.50")
    lines = [p.Line("A", D("5.00"), 2), p.Line("B", D("3.00"), 2)]
    # buy 2 get 1: 4 units -> 1 free, the cheapest (3.00)
    priced = p.price_cart(lines, [terms(1, p.BUY_X_GET_Y, buy_quantity=2, get_quantity=1)])
    assert priced.line_discounts == [D("0"), D("3.00")]


def test_buy_x_get_a_gift_product_frees_only_gifts_in_the_cart():
    gift = p.Line("GIFT", D("2.50"), 3)
    offer = terms(
        1,
        p.BUY_X_GET_Y,
        buy_quantity=2,
        get_quantity=1,
        gift_item_id="GIFT",
        target=p.Target("products", frozenset({"MUG"})),
    )
    # 3 mugs bought -> one gift free (3 // 2 = 1)
    assert p.price_cart([MUGS, gift], [offer]).line_discounts == [D("0"), D("2.50")]


def test_free_shipping_and_a_budget_cap():
    priced = p.price_cart([MUGS], [terms(1, p.FREE_SHIPPING)], shipping=D("4.95"))
    assert priced.shipping_discount == D("4.95") and priced.total == D("30.00")
    capped = p.price_cart([MUGS], [terms(2, p.PERCENTAGE, "50", budget_left=D("4.00"))])
    assert capped.by_promotion == {2: D("4.00")}
    spent = p.price_cart([MUGS], [terms(3, p.PERCENTAGE, "50", budget_left=D("0"))])
    assert spent.applied == [] and spent.total == D("30.00")


def test_no_line_goes_below_zero():
    priced = p.price_cart([CANDLE], [terms(1, p.FIXED_AMOUNT, "10"), terms(2, p.PERCENTAGE, "100")])
    assert priced.total == D("0") and all(d <= CANDLE.unit_price for d in priced.line_discounts)
