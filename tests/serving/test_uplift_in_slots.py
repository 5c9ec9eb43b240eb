"""Uplift and the contextual bandit in rendered slots: withholding, the ranking signal per promotion
or per experiment variant, and the pick by the visitor's segment's shares."""

from decimal import Decimal

import numpy as np
import pytest
from django.conf import settings
from django.test import override_settings

from promotions.experiments.models import Variant
from promotions.offers.models import Promotion, PromotionUpliftModel, SlotConfig
from promotions.registry import forget_all
from promotions.serving.promotions import BANDIT_PICK, personalized_promotions
from promotions.uplift import serving as serving_uplift
from promotions.uplift.app_data import UPLIFT_ASSIGNMENT
from promotions.uplift.features import DEVICES
from promotions.uplift.linear import LinearUplift
from promotions.uplift.serving import is_withheld
from tests.experiments.factories import make_experiment
from tests.offers.conftest import make_promotion, visitor_request
from tests.serving.conftest import lantern_fan

pytestmark = pytest.mark.django_db
NONE_HELD_OUT = {**settings.PROMOTIONS, "HOLDOUT_SHARE": 0}


@pytest.fixture(autouse=True)
def fresh_models():
    serving_uplift.forget_uplift_models()
    yield
    serving_uplift.forget_uplift_models()


@pytest.fixture
def offers(active_model):
    candles = make_promotion(
        name="Candles", message="20% off candles", target_kind="categories", target_values=["Candles"],
        value=Decimal(20),
    )  # fmt: skip
    lanterns = make_promotion(
        name="Lanterns", message="20% off lanterns", target_kind="categories", target_values=["Lanterns"],
        value=Decimal(20),
    )  # fmt: skip
    return candles, lanterns


def constant_uplift(promotion, uplift):
    """A model predicting the same uplift for everyone: both regressions' intercepts only."""
    names = ["recency_days", "frequency", "purchases", "monetary", "categories_touched"]
    names += [f"device={d}" for d in DEVICES] + ["returning"]
    zeros = tuple([0.0] * len(names))
    control = 0.1
    treated = control + uplift
    model = LinearUplift(
        tuple(names), zeros, zeros, tuple([1.0] * len(names)),
        zeros, float(np.log(treated / (1 - treated))), zeros, float(np.log(control / (1 - control))),
    )  # fmt: skip
    PromotionUpliftModel.objects.create(promotion=promotion, n_treated=1, n_control=1, parameters=model.to_dict())


def show(request, slot="home", limit=1):
    return personalized_promotions(request, slot, limit, rng=np.random.default_rng(0))


@override_settings(PROMOTIONS=NONE_HELD_OUT)
def test_the_ranking_signal_picks_the_persuasive_promotion_and_a_variant_overrides_it(offers):
    candles, lanterns = offers
    constant_uplift(candles, 0.05)  # persuades
    constant_uplift(lanterns, 0.0)  # the lantern fan would buy lanterns anyway
    assert [s.promotion for s in show(lantern_fan("a" * 32))] == [lanterns]  # by affinity (the default)
    Promotion.objects.update(ranking_signal="uplift")
    forget_all()
    assert [s.promotion for s in show(lantern_fan("b" * 32))] == [candles]
    # An experiment's variant config decides for the whole slot, whatever the promotions say.
    experiment = make_experiment("ranking-test", weights=("0", "1"))
    Variant.objects.filter(experiment=experiment, key="v1").update(config={"ranking": "affinity"})
    SlotConfig.objects.create(slot="home", experiment=experiment)
    forget_all()
    assert [s.promotion for s in show(lantern_fan("c" * 32))] == [lanterns]
    Variant.objects.filter(experiment=experiment, key="v1").update(config={"ranking": "uplift"})
    Promotion.objects.update(ranking_signal="affinity")
    forget_all()
    assert [s.promotion for s in show(lantern_fan("d" * 32))] == [candles]


@override_settings(PROMOTIONS=NONE_HELD_OUT)
def test_a_withheld_promotion_is_not_shown_and_the_assignment_is_logged(offers):
    candles, lanterns = offers
    Promotion.objects.filter(pk=lanterns.pk).update(uplift_holdout=Decimal("0.5"))
    lanterns.uplift_holdout = Decimal("0.5")
    withheld = next(f"{n:032x}" for n in range(1000) if is_withheld(f"{n:032x}", lanterns))
    shown = next(f"{n:032x}" for n in range(1000) if not is_withheld(f"{n:032x}", lanterns))
    for visitor, expected in ((withheld, candles), (shown, lanterns)):
        request = lantern_fan(visitor)
        assert [s.promotion for s in show(request)] == [expected]
        [logged] = [e for e in request.promotions.events if e["event_type"] == UPLIFT_ASSIGNMENT]
        assert logged["promotion_id"] == lanterns.pk
        assert logged["context"] == {"withheld": expected == candles, "slot": "home"}


@override_settings(PROMOTIONS=NONE_HELD_OUT)
def test_a_contextual_slot_picks_by_the_visitors_segment_and_logs_that_propensity(offers):
    candles, lanterns = offers
    SlotConfig.objects.create(
        slot="home",
        bandit=True,
        contextual=True,
        weights={str(candles.pk): 0.25, str(lanterns.pk): 0.75},
        # The lantern fan: new, on a desktop browser, whose top category is lanterns.
        segment_weights={"new|desktop|Lanterns": {str(candles.pk): 1.0, str(lanterns.pk): 0.0}},
    )
    request = lantern_fan()
    assert show(request)[0].promotion == candles
    [pick] = [e for e in request.promotions.events if e["event_type"] == BANDIT_PICK]
    assert pick["promotion_id"] == candles.pk and pick["context"]["propensity"] == 1.0
    # A visitor of a segment without shares of its own gets the slot's overall shares.
    other = visitor_request(visitor_id="e" * 32, agent="Mozilla/5.0 (iPhone; Mobile)")
    chosen = show(other)[0]
    [pick] = [e for e in other.promotions.events if e["event_type"] == BANDIT_PICK]
    assert pick["context"]["propensity"] == {candles.pk: 0.25, lanterns.pk: 0.75}[chosen.promotion.pk]
