"""The repurchase model and the buy-again blend, checked by hand on tiny logs."""

import math

import numpy as np
import pytest

from promotions.recommenders import (
    BuyAgainRecommender,
    Interactions,
    Reason,
    Recommender,
    RepurchaseRecommender,
    Weighting,
)
from promotions.recommenders.repurchase import DUE_FLOOR, Calibration, due_score

DAY = 86400.0
PURCHASE = Weighting(event_weights={"purchase": 1.0}, quantity="ignore")


def log(rows):
    """Rows of (user, item, day) as purchases at noon of that day."""
    return Interactions.from_rows([(u, i, (d + 0.5) * DAY, "purchase", 1) for u, i, d in rows], PURCHASE)


def monthly_tea():
    # c1 buys tea every 30 days (days 0, 30, 60; twice on day 60: one occasion) and a mug once on day 60.
    return log([("c1", "tea", 0), ("c1", "tea", 30), ("c1", "tea", 60), ("c1", "tea", 60), ("c1", "mug", 60)])


def test_a_thirty_day_cycle_is_due_on_day_thirty_not_day_three():
    model = RepurchaseRecommender(horizon_days=0.0, due_width=1.0).fit(monthly_tea())
    last = 60 * DAY  # occasions are days: elapsed counts from the start of the last one
    on_day_3 = model.candidates("c1", at=last + 3 * DAY)
    on_day_30 = model.candidates("c1", at=last + 30 * DAY)
    tea = list(model.item_ids).index("tea")
    at3, at30 = list(on_day_3["items"]).index(tea), list(on_day_30["items"]).index(tea)
    # Tea is the only item bought twice: its own cycle, the item's and the shop's are all 30 days.
    assert on_day_30["cycle"][at30] == pytest.approx(30.0)
    assert on_day_30["count"][at30] == 3  # three distinct days, not four rows
    assert on_day_30["due"][at30] == pytest.approx(1.0)
    assert on_day_3["due"][at3] == pytest.approx(math.exp(-(math.log(3 / 30) ** 2) / 2))  # 0.071
    assert [r.item_id for r in model.due_items("c1", at=last + 30 * DAY)] == ["tea"]
    assert model.due_items("c1", at=last + 3 * DAY) == []
    assert model.due_items("c1", at=last + 30 * DAY)[0].reason == Reason("buy_again", days=30)


def test_score_is_decayed_occasions_times_due_ness():
    model = RepurchaseRecommender(half_life_days=30.0, horizon_days=0.0, due_width=1.0, due_strength=0.5)
    model.fit(monthly_tea())
    parts = model.candidates("c1")  # at the newest row: day 60
    tea = list(parts["items"]).index(list(model.item_ids).index("tea"))
    # Occasions 0, 30 and 60 days before the day of the newest row (which is at noon: half a day more).
    assert parts["weight"][tea] == pytest.approx((1 + 0.5 + 0.25) * 2 ** (-0.5 / 30))
    elapsed = parts["elapsed"][tea]
    assert elapsed == pytest.approx(0.5)  # the day's start, not the row's noon
    assert parts["score"][tea] == pytest.approx(
        parts["weight"][tea] * (DUE_FLOOR + due_score(elapsed, 30.0, 1.0)) ** 0.5
    )


def test_one_occasion_takes_the_items_cycle_and_due_items_rank_first():
    rows = [("c1", "tea", 0), ("c1", "tea", 30), ("c1", "tea", 60), ("c2", "tea", 10)]
    rows += [("c2", "jam", d) for d in (20, 25)]  # jam: a 5-day cycle for c2
    model = RepurchaseRecommender(horizon_days=0.0, due_width=1.0, cycle_prior=2.0, item_prior=5.0).fit(log(rows))
    parts = model.candidates("c2", at=40.0 * DAY)
    cycles = dict(zip(model.item_ids[parts["items"]].tolist(), parts["cycle"].tolist(), strict=True))
    shop = math.exp((math.log(30) + math.log(5)) / 2)
    tea_cycle = math.exp((math.log(30) + 5 * math.log(shop)) / 6)
    jam_cycle = math.exp((math.log(5) + 5 * math.log(shop)) / 6)
    assert model.shop_cycle == pytest.approx(shop)
    assert cycles["tea"] == pytest.approx(tea_cycle)  # c2 bought tea once: the item's cycle
    assert cycles["jam"] == pytest.approx(math.exp((1 * math.log(5) + 2 * math.log(jam_cycle)) / 3))
    # On day 26 tea (bought on day 10, cycle 14.2 days) is due and jam (bought yesterday) is not:
    # though jam was bought more often, tea ranks first. On day 33 jam is due again and leads.
    assert tea_cycle == pytest.approx(14.2, abs=0.05)
    assert [r.item_id for r in model.recommend("c2", at=26.0 * DAY)] == ["tea", "jam"]
    assert [r.item_id for r in model.recommend("c2", at=33.0 * DAY)] == ["jam", "tea"]


def test_unknown_customer_and_excluded_items():
    model = RepurchaseRecommender().fit(monthly_tea())
    assert model.recommend("nobody") == []
    assert [r.item_id for r in model.recommend("c1", exclude=["tea"])] == ["mug"]


def test_save_load_and_forget():
    model = RepurchaseRecommender().fit(monthly_tea())
    loaded = Recommender.load(model.save())
    assert isinstance(loaded, RepurchaseRecommender)
    assert [(r.item_id, r.score) for r in loaded.recommend("c1")] == [
        (r.item_id, r.score) for r in model.recommend("c1")
    ]
    assert loaded.forget_users(["c1"]) == 1
    assert loaded.recommend("c1") == []


def test_calibration_of_one_class_is_its_rate():
    calibration = Calibration.fit(np.zeros((4, 2)), np.array([0.0, 0.0, 0.0, 0.0]), 2)
    assert calibration.predict(np.ones((1, 2)))[0] == pytest.approx(1e-6)


def shop_of_replenishers_and_explorers():
    """40 replenishers buy their two staples every 10 days; 40 explorers buy a new item of their
    theme every 10 days and never the same one again. 100 days."""
    rng = np.random.default_rng(0)
    rows = []
    for n in range(40):
        staples = rng.choice(10, 2, replace=False)
        offset = int(rng.integers(0, 10))
        rows += [(f"r{n}", f"staple{s}", d) for s in staples for d in range(offset, 100, 10)]
        theme = n % 4
        order = rng.permutation(12)
        rows += [(f"e{n}", f"theme{theme}-{order[j]}", offset + 10 * j) for j in range(9) if offset + 10 * j < 100]
    return log(rows)


def test_blend_gives_replenishers_their_usual_and_explorers_new_items():
    model = BuyAgainRecommender(discovery="item_knn", validation_users=100).fit(shop_of_replenishers_and_explorers())
    own = {user: set(model.repeat.item_ids[model.repeat.candidates(user)["items"]].tolist()) for user in ("r0", "e0")}
    replenisher = [r.item_id for r in model.recommend("r0", k=4)]
    explorer = [r.item_id for r in model.recommend("e0", k=4)]
    assert set(replenisher[:2]) == own["r0"]  # both staples first
    assert explorer[0] not in own["e0"] and explorer[0].startswith("theme0-")  # something new, of their theme
    # An unknown visitor gets the discovery model's list from their session.
    assert [r.item_id for r in model.recommend(history=["staple1"], k=3)] == [
        r.item_id for r in model.discover.recommend(history=["staple1"], k=3)
    ]
    for data in (model.save(), model.save(compress=True)):  # the mapped format and the earlier .npz
        loaded = Recommender.load(data)
        assert [r.item_id for r in loaded.recommend("r0", k=4)] == replenisher
        assert [r.item_id for r in loaded.recommend("e0", k=4)] == explorer
