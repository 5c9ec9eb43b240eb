"""The expected-value ranking (pure): affinity, exploration, segments, margin and diversity."""

import numpy as np

from promotions.bandits import ArmStats
from promotions.offers.pricing import Target
from promotions.offers.ranking import Candidate, Interest, baseline_affinity, rank

LANTERNS = [
    Interest(f"L{i}", 1.0 - i * 0.1, category="Lanterns", price=20.0, reason="Because you viewed L0") for i in range(4)
]
MUGS = [Interest("M1", 0.05, category="Mugs", price=20.0)]
WELL_MEASURED = ArmStats(10_000, 300)  # 3%


def candidate(pid, category, overall=WELL_MEASURED, segment=None, share=0.2):
    return Candidate(pid, Target("categories", frozenset({category})), share, overall, segment or ArmStats())


def test_a_promotion_matching_the_visitors_history_ranks_first():
    rng = np.random.default_rng(0)
    wins = sum(
        rank([candidate(1, "Mugs"), candidate(2, "Lanterns")], LANTERNS + MUGS, rng, limit=1)[0].promotion_id == 2
        for _ in range(200)
    )
    assert wins >= 198  # Thompson draws may, very rarely, let the other through


def test_new_promotions_get_explored():
    # A promotion with no data competes with a measured one of the same affinity: its wide
    # posterior wins a real share of the draws, and loses most of them to a well-measured 30% one.
    rng = np.random.default_rng(1)
    new = candidate(2, "Lanterns", overall=ArmStats())
    measured = candidate(1, "Lanterns")
    firsts = [rank([measured, new], LANTERNS, rng, limit=1)[0].promotion_id for _ in range(2000)]
    assert 0.5 < firsts.count(2) / 2000 < 1.0  # Beta(1,1) beats 3% most of the time, never always
    strong = candidate(1, "Lanterns", overall=ArmStats(10_000, 3000))
    firsts = [rank([strong, new], LANTERNS, rng, limit=1)[0].promotion_id for _ in range(2000)]
    assert 0.2 < firsts.count(2) / 2000 < 0.8


def test_a_thin_segment_borrows_from_the_overall_rate_and_a_thick_one_decides():
    rng = np.random.default_rng(2)
    a = candidate(1, "Lanterns", overall=ArmStats(10_000, 500), segment=ArmStats(3, 0))
    b = candidate(2, "Lanterns", overall=ArmStats(10_000, 300), segment=ArmStats(3, 1))
    firsts = [rank([a, b], LANTERNS, rng, limit=1)[0].promotion_id for _ in range(1000)]
    # Three visitors in the segment do not overturn 10,000 overall (without borrowing, uniform priors
    # on 0/3 and 1/3 would put promotion 2 first about 70% of the time).
    assert firsts.count(1) > 580
    b_thick = candidate(2, "Lanterns", overall=ArmStats(10_000, 300), segment=ArmStats(5_000, 1000))
    firsts = [rank([a, b_thick], LANTERNS, rng, limit=1)[0].promotion_id for _ in range(1000)]
    assert firsts.count(2) > 950


def test_margin_prefers_the_promotion_that_leaves_more_profit():
    rng = np.random.default_rng(3)
    costly = [Interest("L0", 1.0, category="Lanterns", price=20.0, cost=15.0)]
    deep = candidate(1, "Lanterns", share=0.20)  # leaves 20 * 0.8 - 15 = 1.00
    shallow = candidate(2, "Lanterns", share=0.05)  # leaves 20 * 0.95 - 15 = 4.00
    assert rank([deep, shallow], costly, rng, limit=1)[0].promotion_id == 2
    ranked = rank([deep, shallow], costly, rng, limit=2)
    assert {r.promotion_id: round(r.margin, 6) for r in ranked} == {1: 1.0, 2: 4.0}


def test_diversity_spreads_picks_across_targets():
    rng = np.random.default_rng(4)
    interests = LANTERNS + [Interest("C1", 0.6, category="Candles", price=20.0)]
    same_a = candidate(1, "Lanterns", segment=ArmStats(100_000, 3000))
    same_b = candidate(2, "Lanterns", segment=ArmStats(100_000, 2000))
    other = candidate(3, "Candles", segment=ArmStats(100_000, 3000))
    picks = [r.promotion_id for r in rank([same_a, same_b, other], interests, rng, limit=2, diversity=0.9)]
    assert picks == [1, 3]
    without = [r.promotion_id for r in rank([same_a, same_b, other], interests, rng, limit=2, diversity=0.0)]
    assert without == [1, 2]


def test_ranked_promotions_carry_the_matching_products_and_reason():
    ranked = rank([candidate(1, "Lanterns")], LANTERNS + MUGS, np.random.default_rng(5), limit=3)
    assert [i.item_id for i in ranked[0].interests] == ["L0", "L1", "L2", "L3"]
    assert ranked[0].interests[0].reason == "Because you viewed L0"


def test_deterministic_under_a_seed():
    args = ([candidate(1, "Lanterns", overall=ArmStats()), candidate(2, "Lanterns", overall=ArmStats())], LANTERNS)
    first = [r.promotion_id for _ in range(20) for r in rank(*args, np.random.default_rng(9), limit=2)]
    again = [r.promotion_id for _ in range(20) for r in rank(*args, np.random.default_rng(9), limit=2)]
    assert first == again


def test_a_promotion_on_every_product_does_not_outrank_one_on_what_the_visitor_loves():
    # Against the average visitor (a quarter of whose interest is in lanterns), this visitor's
    # all-lantern interest is a fourfold affinity; a site-wide promotion stays at one.
    rng = np.random.default_rng(6)
    typical = [Interest("L0", 1.0, category="Lanterns"), Interest("M1", 3.0, category="Mugs")]
    lanterns = candidate(1, "Lanterns")
    lanterns = Candidate(
        1, lanterns.target, 0.2, WELL_MEASURED, ArmStats(), baseline_affinity(lanterns.target, typical)
    )
    everything = Candidate(2, Target(), 0.2, WELL_MEASURED, ArmStats(), baseline_affinity(Target(), typical))
    assert everything.baseline_affinity == 1.0 and lanterns.baseline_affinity == 0.25 + 0.02
    firsts = [rank([everything, lanterns], LANTERNS, rng, limit=1)[0].promotion_id for _ in range(200)]
    assert firsts.count(1) > 180
