"""Uplift in serving: the randomized per-promotion holdout and its assignment log, predicted uplifts
from the visitor's events, and the signal a variant config sets for a slot."""

from datetime import timedelta
from decimal import Decimal
from unittest import mock

import numpy as np
import pytest
from django.core.cache import cache
from django.utils import timezone

from promotions.offers.models import Promotion, PromotionUpliftModel
from promotions.offers.ranking import AFFINITY, BLEND, UPLIFT
from promotions.tracking.models import Event
from promotions.uplift import serving as serving_uplift
from promotions.uplift.app_data import UPLIFT_ASSIGNMENT
from promotions.uplift.features import DEVICES
from promotions.uplift.linear import LinearUplift
from promotions.uplift.serving import (
    is_withheld,
    predicted_uplifts,
    ranking_signals,
    uplifts_for_ranking,
    withhold,
)
from tests.offers.conftest import make_promotion, visitor_request

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_models():
    serving_uplift.forget_uplift_models()
    yield
    serving_uplift.forget_uplift_models()


def test_withholding_is_deterministic_and_takes_its_share():
    promotion = Promotion(pk=7, uplift_holdout=Decimal("0.2"))
    other = Promotion(pk=8, uplift_holdout=Decimal("0.2"))
    anchors = [f"visitor-{i}" for i in range(4000)]
    withheld = [is_withheld(anchor, promotion) for anchor in anchors]
    assert withheld == [is_withheld(anchor, promotion) for anchor in anchors]
    # Binomial(4000, 0.2): mean 800, standard deviation 25.3; four of them either side.
    assert abs(sum(withheld) - 800) < 4 * 25.3
    # Each promotion hashes on its own: being withheld from one says nothing about another.
    both = sum(w and is_withheld(a, other) for a, w in zip(anchors, withheld, strict=True))
    assert abs(both - 160) < 4 * np.sqrt(4000 * 0.04 * 0.96)
    assert not any(is_withheld(anchor, Promotion(pk=9, uplift_holdout=Decimal(0))) for anchor in anchors[:200])


def assignments(request):
    return [e for e in request.promotions.events if e["event_type"] == UPLIFT_ASSIGNMENT]


def test_eligible_visitors_are_logged_once_a_day_shown_and_withheld_alike():
    randomized = make_promotion(name="Randomized", uplift_holdout=Decimal("0.5"))
    plain = make_promotion(name="Plain")
    kept_by = {}
    for index in range(60):
        request = visitor_request(visitor_id=f"{index:032d}")
        kept = withhold(request, [randomized, plain], "home")
        [logged] = assignments(request)
        assert logged["promotion_id"] == randomized.pk and logged["context"]["slot"] == "home"
        assert logged["context"]["withheld"] == (randomized not in kept) and plain in kept
        kept_by[index] = randomized in kept
        # The same day, in this request or the next one: the same arm, and no second log line.
        assert withhold(request, [randomized, plain], "cart") == kept
        again = visitor_request(visitor_id=f"{index:032d}")
        with mock.patch.object(cache, "add", side_effect=AssertionError("read with the page's entries")):
            assert withhold(again, [randomized, plain], "home") == kept and assignments(again) == []
    assert 10 < sum(kept_by.values()) < 50


def test_visitors_who_may_not_be_tracked_are_never_withheld_nor_logged():
    randomized = make_promotion(uplift_holdout=Decimal("0.5"))
    request = visitor_request(allowed=False)
    assert withhold(request, [randomized], "home") == [randomized] and request.promotions.events == []


def store_mobile_model(promotion, persuaded=0.3):
    """A model under which visitors on mobile are persuaded and those on desktop not at all."""
    names = ["recency_days", "frequency", "purchases", "monetary", "categories_touched"]
    names += [f"device={device}" for device in DEVICES] + ["returning"]
    zeros = [0.0] * len(names)
    control = -2.0  # about 12% buy anyway
    treated_coef = list(zeros)
    treated_coef[names.index("device=mobile")] = 2.0
    model = LinearUplift(
        tuple(names), tuple([30.0] + zeros[1:]), tuple(zeros), tuple([1.0] * len(names)),
        tuple(treated_coef), control, tuple(zeros), control,
    )  # fmt: skip
    return PromotionUpliftModel.objects.create(
        promotion=promotion, n_treated=500, n_control=500, feature_names=names, parameters=model.to_dict()
    )


def test_predicted_uplift_comes_from_the_visitors_own_events_and_the_latest_model():
    promotion, without_model = make_promotion(), make_promotion()
    old = store_mobile_model(promotion)
    PromotionUpliftModel.objects.filter(pk=old.pk).update(parameters={"broken": True})
    store_mobile_model(promotion)  # the latest row serves
    now = timezone.now()
    Event.objects.create(
        event_type="view", visitor_id="m" * 32, occurred_at=now - timedelta(days=2),
        idempotency_key="m1", context={"device": "mobile"},
    )  # fmt: skip
    mobile = predicted_uplifts(visitor_request(visitor_id="m" * 32), [promotion, without_model])
    desktop_request = visitor_request(visitor_id="d" * 32)
    desktop_request.promotions.events.append(
        {"event_type": "view", "occurred_at": now - timedelta(seconds=5), "context": {"device": "desktop"}}
    )
    desktop = predicted_uplifts(desktop_request, [promotion, without_model])
    assert set(mobile) == set(desktop) == {promotion.pk}
    # Mobile: sigmoid(2 - 2) - sigmoid(-2); desktop: no effect.
    assert mobile[promotion.pk] == pytest.approx(0.5 - 1 / (1 + np.exp(2))) and desktop[promotion.pk] == pytest.approx(
        0
    )


def test_a_variant_config_overrides_each_promotions_signal_for_the_slot():
    by_uplift = make_promotion(ranking_signal=UPLIFT)
    by_affinity = make_promotion()
    assert ranking_signals([by_uplift, by_affinity], {}) == {by_uplift.pk: UPLIFT, by_affinity.pk: AFFINITY}
    assert ranking_signals([by_uplift, by_affinity], {"ranking": "blend"}) == {
        by_uplift.pk: BLEND,
        by_affinity.pk: BLEND,
    }
    assert ranking_signals([by_uplift, by_affinity], {"ranking": "affinity"})[by_uplift.pk] == AFFINITY
    assert ranking_signals([by_uplift], {"ranking": "nonsense"}) == {by_uplift.pk: UPLIFT}


def test_no_query_when_every_promotion_ranks_by_affinity(django_assert_num_queries):
    promotions = [make_promotion(), make_promotion()]
    request = visitor_request()
    with django_assert_num_queries(0):
        assert uplifts_for_ranking(request, promotions, {}) == ({p.pk: AFFINITY for p in promotions}, {})
