"""The contextual slot bandit: shares per visitor segment, learned by the hourly re-weighting."""

from decimal import Decimal

import numpy as np
import pytest

from promotions.offers.models import SlotConfig
from promotions.serving.bandit import reweight, shares_for
from tests.offers.conftest import make_promotion

pytestmark = pytest.mark.django_db

SEGMENTS = ("new|mobile|Lanterns", "returning|desktop|Candles")


def simulate(config, a, b, rounds=25, per_segment=400, seed=0):
    """Each hour, every segment's visitors are served by the shares the slot gives that segment; in
    the first segment promotion A converts 10% and B 4%, in the second the other way round (so
    both arms convert 7% overall). Returns the conversion rate of the last ten hours."""
    rng = np.random.default_rng(seed)
    truth = {SEGMENTS[0]: {a.pk: 0.10, b.pk: 0.04}, SEGMENTS[1]: {a.pk: 0.04, b.pk: 0.10}}
    stats = {str(p.pk): {"overall": [0, 0, 0.0, 0.0], "segments": {}} for p in (a, b)}
    late = [0, 0]
    for hour in range(rounds):
        reweight(config, stats, rng)
        for segment in SEGMENTS:
            shares = shares_for(config, segment)
            keys = list(shares)
            chosen = rng.choice(len(keys), size=per_segment, p=np.array([shares[k] for k in keys]))
            for index, key in enumerate(keys):
                visitors = int((chosen == index).sum())
                converted = int(rng.binomial(visitors, truth[segment][int(key)]))
                row = stats[key]["segments"].setdefault(segment, [0, 0, 0.0, 0.0])
                for target in (row, stats[key]["overall"]):
                    target[0] += visitors
                    target[1] += converted
                    target[2] += converted
                    target[3] += converted
                if hour >= rounds - 10:
                    late[0] += visitors
                    late[1] += converted
    reweight(config, stats, rng)
    return late[1] / late[0]


def test_per_segment_shares_converge_to_each_segments_best_arm():
    a, b = make_promotion(name="A"), make_promotion(name="B")
    config = SlotConfig.objects.create(
        slot="home", bandit=True, contextual=True, burn_in=100, min_share=Decimal("0.05")
    )
    rate = simulate(config, a, b)
    config.refresh_from_db()
    assert config.segment_weights[SEGMENTS[0]][str(a.pk)] > 0.9
    assert config.segment_weights[SEGMENTS[1]][str(b.pk)] > 0.9
    # A segment never seen gets the slot's overall shares.
    assert shares_for(config, "new|desktop|Mugs") == config.weights
    # 10% at best, less the 5% minimum share each segment keeps on its worse arm.
    assert rate > 0.088

    plain_a, plain_b = make_promotion(name="A2"), make_promotion(name="B2")
    a.delete(), b.delete()
    plain = SlotConfig.objects.create(slot="cart", bandit=True, burn_in=100, min_share=Decimal("0.05"))
    plain_rate = simulate(plain, plain_a, plain_b)
    plain.refresh_from_db()
    # One set of shares for everyone: whatever it favours is the wrong arm for one segment.
    assert plain.segment_weights == {} and plain_rate < 0.08


def test_during_the_burn_in_no_segment_has_shares_of_its_own():
    a, b = make_promotion(), make_promotion()
    config = SlotConfig.objects.create(slot="home", bandit=True, contextual=True, burn_in=100)
    stats = {
        str(a.pk): {"overall": [50, 10, 0, 0], "segments": {SEGMENTS[0]: [50, 10, 0, 0]}},
        str(b.pk): {"overall": [500, 5, 0, 0], "segments": {SEGMENTS[0]: [500, 5, 0, 0]}},
    }
    shares = reweight(config, stats, np.random.default_rng(0))
    assert shares == {str(a.pk): 0.5, str(b.pk): 0.5} and config.segment_weights == {}
    assert shares_for(config, SEGMENTS[0]) == shares
