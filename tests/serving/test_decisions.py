"""Who decides what a visitor sees, step by step, and what each step shows."""

from decimal import Decimal

import numpy as np
import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import override_settings

from promotions.experiments.models import Assignment, Variant
from promotions.offers.models import Promotion, SlotConfig
from promotions.recommenders import Reason
from promotions.serving import decide as decisions
from promotions.serving.promotions import personalized_promotions
from promotions.serving.reasons import reason_text
from promotions.tracking.capture import make_event
from promotions.tracking.models import Visitor
from promotions.visitors.holdout import in_holdout, is_held_out
from tests.experiments.factories import make_experiment
from tests.offers.conftest import make_promotion, visitor_request
from tests.serving.conftest import lantern_fan

pytestmark = pytest.mark.django_db

#: Nearly everyone (HOLDOUT_SHARE must stay below 1) or nobody in the holdout; the demo's other keys kept.
ALL_HELD_OUT = {**settings.PROMOTIONS, "HOLDOUT_SHARE": 0.999999}
NONE_HELD_OUT = {**settings.PROMOTIONS, "HOLDOUT_SHARE": 0}
HALF_HELD_OUT = {**settings.PROMOTIONS, "HOLDOUT_SHARE": 0.5}
FIVE_PERCENT = {**settings.PROMOTIONS, "HOLDOUT_SHARE": 0.05}


@pytest.fixture
def offers(active_model):
    candles = make_promotion(
        name="Candles",
        message="20% off candles",
        target_kind="categories",
        target_values=["Candles"],
        value=Decimal(20),
    )
    lanterns = make_promotion(
        name="Lanterns",
        message="20% off lanterns",
        target_kind="categories",
        target_values=["Lanterns"],
        value=Decimal(20),
    )
    return candles, lanterns


def show(request, slot="home", limit=1):
    return personalized_promotions(request, slot, limit, rng=np.random.default_rng(0))


@override_settings(PROMOTIONS=NONE_HELD_OUT)
def test_step_5_the_default_ranking_prefers_the_visitors_interest(offers):
    shown = show(lantern_fan())
    assert [s.promotion.name for s in shown] == ["Lanterns"]
    assert shown[0].step == decisions.DEFAULT and shown[0].personalized
    # "Offered because you viewed ..." names the item behind it, worded when shown.
    assert shown[0].reason == Reason("offer_viewed", "L1") and "Lantern L1" in reason_text(shown[0].reason)
    assert {card.category for card in shown[0].products} == {"Lanterns"}


@override_settings(PROMOTIONS=NONE_HELD_OUT)
def test_step_1_no_consent_gets_non_personalized_promotions_and_no_enrollment(offers):
    experiment = make_experiment("home-test")
    SlotConfig.objects.create(slot="home", experiment=experiment)
    request = visitor_request(allowed=False)
    shown = show(request, limit=2)
    assert {s.step for s in shown} == {decisions.NOT_TRACKED} and not any(s.personalized for s in shown)
    assert [s.promotion.pk for s in shown] == [p.pk for p in Promotion.objects.order_by("-priority", "pk")]
    assert not Assignment.objects.exists()


@override_settings(PROMOTIONS=ALL_HELD_OUT)
def test_step_2_holdout_visitors_see_non_personalized_promotions_and_are_never_enrolled(offers):
    experiment = make_experiment("home-test")
    SlotConfig.objects.create(slot="home", experiment=experiment)
    shown = show(lantern_fan(), limit=2)
    assert {s.step for s in shown} == {decisions.HOLDOUT}
    assert not any(s.personalized or s.reason for s in shown)
    assert not Assignment.objects.exists()


@override_settings(PROMOTIONS=NONE_HELD_OUT)
def test_step_3_a_running_experiment_on_the_slot_decides_by_its_variant_config(offers):
    experiment = make_experiment("home-test", weights=("0", "1"))  # everyone gets v1
    Variant.objects.filter(experiment=experiment, key="v1").update(config={"personalized": False})
    SlotConfig.objects.create(slot="home", experiment=experiment)
    shown = show(lantern_fan(), limit=2)
    assert {s.step for s in shown} == {decisions.EXPERIMENT} and not any(s.personalized for s in shown)
    assert Assignment.objects.get().variant.key == "v1"  # rendering it was the exposure


@override_settings(PROMOTIONS=NONE_HELD_OUT)
def test_step_4_a_bandit_picks_the_first_promotion_by_its_shares(offers):
    candles, lanterns = offers
    SlotConfig.objects.create(slot="home", bandit=True, weights={str(candles.pk): 1.0, str(lanterns.pk): 0.0})
    shown = show(lantern_fan(), limit=2)
    assert shown[0].promotion == candles and shown[0].step == decisions.BANDIT and shown[0].propensity == 1.0
    assert shown[1].promotion == lanterns  # the rest by the default ranking


@override_settings(PROMOTIONS=NONE_HELD_OUT)
def test_an_experiment_that_is_not_running_falls_through_to_the_next_step(offers):
    experiment = make_experiment("home-test", status="paused")
    SlotConfig.objects.create(slot="home", experiment=experiment, bandit=True)
    assert show(lantern_fan())[0].step == decisions.BANDIT


def find_visitor(held_out: bool) -> str:
    return next(f"{n:032x}" for n in range(10_000) if is_held_out(f"{n:032x}") == held_out)


@override_settings(PROMOTIONS=HALF_HELD_OUT)
def test_holdout_visitors_stay_in_the_holdout_after_signing_up_and_signing_in(client):
    for held_out in (True, False):
        visitor_id = find_visitor(held_out)
        request = visitor_request(visitor_id=visitor_id)
        assert in_holdout(request) is held_out
        user = get_user_model().objects.create_user(f"u{held_out}", password="x")
        Visitor.objects.create(key=visitor_id, user=user)  # what signing in does (tracking.signals)
        signed_in = visitor_request(visitor_id="f" * 32, user=user)  # later, on another device
        assert in_holdout(signed_in) is held_out


@override_settings(PROMOTIONS=FIVE_PERCENT)
def test_the_holdout_takes_its_share_of_visitors():
    share = sum(is_held_out(f"{n:032x}") for n in range(40_000)) / 40_000
    assert abs(share - 0.05) < 0.005


@override_settings(PROMOTIONS=NONE_HELD_OUT)
def test_the_ranking_is_kept_for_the_visitor_until_their_session_changes(offers):
    from promotions.visitors.recent import remember

    candles, lanterns = offers
    remember("k" * 32, lantern_fan("k" * 32).promotions.events)
    first = show(visitor_request(visitor_id="k" * 32))
    assert [s.promotion for s in first] == [lanterns]
    # Whatever the next draws would say, the same answer comes back from the cache...
    again = [personalized_promotions(visitor_request(visitor_id="k" * 32), "home", 1)[0].promotion for _ in range(5)]
    assert again == [lanterns] * 5 and again[0].pk == first[0].id
    # ...until the visitor looks at something new: then the ranking follows them.
    request = visitor_request(visitor_id="k" * 32)
    for item in ("C1", "C2", "C3"):
        request.promotions.events.append(make_event(request, "view", item_id=item))
    remember("k" * 32, request.promotions.events)
    assert show(visitor_request(visitor_id="k" * 32))[0].promotion == candles


@override_settings(PROMOTIONS=NONE_HELD_OUT)
def test_with_the_cache_down_promotions_are_still_ranked_and_shown(offers):
    from tests.serving.test_recommendations import CACHE_DOWN

    with override_settings(CACHES=CACHE_DOWN):
        shown = show(lantern_fan(), limit=2)
    assert [s.promotion.name for s in shown][0] == "Lanterns" and shown[0].personalized


@override_settings(PROMOTIONS=NONE_HELD_OUT)
def test_a_new_view_reranks_from_the_recent_items_without_scoring_the_catalogue_again(offers, monkeypatch):
    from promotions.recommenders import Recommender
    from promotions.visitors.recent import remember

    candles, lanterns = offers
    remember("m" * 32, lantern_fan("m" * 32).promotions.events)
    assert [s.promotion for s in show(visitor_request(visitor_id="m" * 32))] == [lanterns]
    calls = []
    real = Recommender.recommend
    monkeypatch.setattr(Recommender, "recommend", lambda self, *a, **k: calls.append(a) or real(self, *a, **k))
    request = visitor_request(visitor_id="m" * 32)
    for item in ("C1", "C2", "C3"):
        request.promotions.events.append(make_event(request, "view", item_id=item))
    remember("m" * 32, request.promotions.events)
    assert show(visitor_request(visitor_id="m" * 32))[0].promotion == candles
    assert calls == []  # the model's list of a minute ago, with the new views first in the interests


@override_settings(PROMOTIONS=NONE_HELD_OUT)
def test_views_of_what_no_promotion_targets_keep_the_answer_and_a_turn_to_another_target_reranks(offers, monkeypatch):
    from promotions.offers import ranking
    from promotions.visitors.recent import remember

    candles, lanterns = offers
    remember("n" * 32, lantern_fan("n" * 32).promotions.events)
    assert show(visitor_request(visitor_id="n" * 32))[0].promotion == lanterns
    calls = []
    real = ranking.rank
    monkeypatch.setattr(ranking, "rank", lambda *a, **k: calls.append(1) or real(*a, **k))

    def view(*items):
        request = visitor_request(visitor_id="n" * 32)
        for item in items:
            request.promotions.events.append(make_event(request, "view", item_id=item))
        remember("n" * 32, request.promotions.events)
        return show(visitor_request(visitor_id="n" * 32))[0].promotion

    assert view("M1", "M2") == lanterns and calls == []  # mugs: no promotion targets them
    assert view("L2") == lanterns and calls == []  # more of what the lantern offer covers
    assert view("C1", "C2", "C3") == candles and len(calls) == 1  # the visitor turned to candles
