"""Bought together: lift and its significance filter, by hand on a tiny basket log."""

import math

import numpy as np
import pytest
import scipy.sparse as sp

from promotions.recommenders.together import BoughtTogether, basket_matrix

DAY = 86400.0


def baskets(*contents: str) -> tuple[np.ndarray, sp.csr_matrix]:
    items = np.array(sorted({item for basket in contents for item in basket}))
    index = {item: i for i, item in enumerate(items)}
    rows = [(b, index[item]) for b, basket in enumerate(contents) for item in basket]
    matrix = sp.csr_matrix((np.ones(len(rows)), tuple(np.array(rows).T)), shape=(len(contents), len(items)))
    return items, matrix


# 10 baskets. "m" (milk, a best seller) is in 8; "c" and "h" (chips and dip) in 3 each, always together.
LOG = ["mch", "mch", "mch", "m", "m", "m", "m", "ma", "b", "ab"]


def test_lift_and_p_value_by_hand():
    items, matrix = baskets(*LOG)
    model = BoughtTogether(min_count=2, max_p_value=1.0).fit(items, matrix)
    found = {(p.a, p.b): p for p in model.pairs()}
    chips_dip = found[("c", "h")]
    assert (chips_dip.together, chips_dip.baskets_a, chips_dip.baskets_b) == (3, 3, 3)
    assert chips_dip.lift == pytest.approx(3 * 10 / (3 * 3))  # 3.33 times chance
    expected = 3 * 3 / 10
    poisson_tail = 1 - sum(math.exp(-expected) * expected**j / math.factorial(j) for j in range(3))
    assert chips_dip.p_value == pytest.approx(poisson_tail)
    milk_chips = found[("c", "m")]
    assert milk_chips.lift == pytest.approx(3 * 10 / (3 * 8))  # 1.25: milk meets everything
    assert milk_chips.p_value > chips_dip.p_value


def test_the_filter_drops_best_sellers_that_raw_counts_keep():
    items, matrix = baskets(*LOG)
    # p of c-h: 0.063; of c-m: 0.43
    significant = BoughtTogether(min_count=2, max_p_value=0.1).fit(items, matrix)
    raw = BoughtTogether(min_count=1, max_p_value=1.0, rank="count").fit(items, matrix)
    assert [(p.a, p.b) for p in significant.pairs()] == [("c", "h")]
    assert significant.together(["c"]) == [("h", pytest.approx(3 * math.log(10 / 3)))]  # evidence
    by_lift = BoughtTogether(min_count=2, max_p_value=0.1, rank="lift").fit(items, matrix)
    assert by_lift.together(["c"]) == [("h", pytest.approx(10 / 3))]
    # Raw counts: milk (3 shared baskets, as many as dip) comes first by id, and rare pairs too.
    assert [item for item, _ in raw.together(["c"])] == ["h", "m"]
    assert [item for item, _ in raw.together(["a"])] == ["b", "m"]
    assert significant.together(["a"]) == []
    # A cart: companions of all its items, its own items left out.
    assert significant.together(["c", "h"]) == []
    assert [item for item, _ in raw.together(["c", "h"], exclude=["m"])] == []


def test_baskets_are_a_customers_day():
    users = np.array([0, 0, 0, 1])
    items = np.array([0, 1, 1, 1])
    stamps = np.array([0.5, 0.6, 2.5, 0.5]) * DAY  # user 0: items 0 and 1 on day 0, item 1 on day 2
    matrix = basket_matrix(users, items, stamps, 2)
    assert sorted(map(tuple, matrix.toarray().tolist())) == [(0.0, 1.0), (0.0, 1.0), (1.0, 1.0)]


def test_unknown_rank_is_refused():
    with pytest.raises(ValueError):
        BoughtTogether(rank="random")
