"""The ranking's signals (pure): affinity, predicted uplift, their blend, and the fallback without a model."""

import numpy as np
import pytest

from promotions.bandits import ArmStats
from promotions.offers.pricing import Target
from promotions.offers.ranking import AFFINITY, BLEND, BLEND_WEIGHT, UPLIFT, Candidate, Interest, rank

LANTERNS = [Interest(f"L{i}", 1.0, category="Lanterns", price=20.0) for i in range(4)]
CANDLES = [Interest("C1", 0.1, category="Candles", price=20.0)]
# Both promotions convert 5% of the visitors they are shown to, measured on 100,000 visitors each.
MEASURED = ArmStats(100_000, 5_000)


def candidates(signal, uplift_a=0.0, uplift_b=0.04):
    """A: on what the visitor loves (high affinity) but they would buy anyway (zero uplift).
    B: on what they barely looked at (low affinity), but the offer persuades them (positive uplift)."""
    a = Candidate(1, Target("categories", frozenset({"Lanterns"})), 0.2, MEASURED, uplift=uplift_a, signal=signal)
    b = Candidate(2, Target("categories", frozenset({"Candles"})), 0.2, MEASURED, uplift=uplift_b, signal=signal)
    return [a, b]


def first(signal, **uplifts):
    rng = np.random.default_rng(0)
    return [rank(candidates(signal, **uplifts), LANTERNS + CANDLES, rng, limit=1)[0].promotion_id for _ in range(50)]


def test_affinity_ranks_the_promotion_on_what_the_visitor_would_buy_anyway_first():
    assert set(first(AFFINITY)) == {1}


def test_uplift_ranks_the_promotion_that_persuades_first():
    assert set(first(UPLIFT)) == {2}
    ranked = rank(candidates(UPLIFT), LANTERNS + CANDLES, np.random.default_rng(1), limit=2)
    # The value is the predicted uplift times the margin left after 20% off a 20.00 product.
    assert ranked[0].expected_value == pytest.approx(0.04 * 16.0)
    assert (ranked[0].signal, ranked[0].uplift) == (UPLIFT, 0.04)


def test_a_negative_uplift_ranks_after_every_promotion_that_earns_something():
    ranked = rank(candidates(UPLIFT, uplift_a=-0.01, uplift_b=0.001), LANTERNS + CANDLES, np.random.default_rng(2))
    assert [r.promotion_id for r in ranked] == [2, 1]
    assert ranked[1].expected_value == pytest.approx(-0.01 * 16.0)  # not discounted by diversity into a better value


def test_blend_is_the_documented_mix_of_both():
    ranked = rank(candidates(BLEND), LANTERNS + CANDLES, np.random.default_rng(3), limit=2)
    by_id = {r.promotion_id: r for r in ranked}
    for r in ranked:  # the targets do not overlap: no diversity discount
        expected = r.margin * ((1 - BLEND_WEIGHT) * r.affinity * r.rate + BLEND_WEIGHT * r.uplift)
        assert r.expected_value == pytest.approx(expected, rel=1e-9)
    assert by_id[1].signal == by_id[2].signal == BLEND


def test_a_promotion_without_a_model_falls_back_to_affinity():
    rng = np.random.default_rng(4)
    a, b = candidates(UPLIFT, uplift_a=None, uplift_b=None)
    ranked = rank([a, b], LANTERNS + CANDLES, rng, limit=2)
    assert ranked[0].promotion_id == 1 and {r.signal for r in ranked} == {AFFINITY}
    assert ranked[0].expected_value == pytest.approx(ranked[0].affinity * ranked[0].rate * ranked[0].margin)
