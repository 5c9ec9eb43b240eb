"""Rating values and dwell times in the training weights: read from the event log, and kept by the
pipeline only where the validation windows say they help."""

from datetime import timedelta

import pytest
from django.utils import timezone

from promotions.training import data, pipeline

from .conftest import ITEMS, add_event

pytestmark = pytest.mark.django_db


def signal_event(visitor_id: str, item_id: str, when, event_type: str, rating=None, dwell=None) -> None:
    add_event(visitor_id, item_id, when, event_type, rating=rating, dwell_seconds=dwell)


def weights_of(weighting) -> dict[str, float]:
    interactions = data.interaction_log().to_interactions(weighting)
    return dict(zip(interactions.item_ids.tolist(), interactions.matrix.toarray()[0].tolist(), strict=True))


def test_rating_values_and_dwell_times_weigh_by_hand(settings):
    now = timezone.now()
    signal_event("v", "liked", now, "rating", rating=5)
    signal_event("v", "disliked", now, "rating", rating=1)
    signal_event("v", "read", now, "dwell", dwell=90.0)
    signal_event("v", "bounced", now, "dwell", dwell=3.0)
    add_event("v", "plain", now, "view")
    weights = {"view": 1.0, "rating": 2.0}
    settings.PROMOTIONS = {**settings.PROMOTIONS, "TRAINING_EVENT_WEIGHTS": weights}
    # Neutral (the defaults): a rating weighs its event weight, dwell events are not read.
    assert not data.signals_configured()
    assert weights_of(data.weighting()) == pytest.approx({"liked": 2.0, "disliked": 2.0, "plain": 1.0})
    settings.PROMOTIONS = {**settings.PROMOTIONS, "TRAINING_RATING_POWER": 1.0, "TRAINING_DWELL_SECONDS": 30.0}
    assert data.signals_configured()
    assert weights_of(data.weighting(signals=True)) == pytest.approx(
        {
            "liked": 2.0 * 5 / 3,  # 2 * (5/3)^1
            "disliked": 2.0 / 3,
            "read": 1.5,  # a dwell event weighs as a view: 1 * 2 * 90 / (90 + 30)
            "bounced": 6 / 33,  # 2 * 3 / (3 + 30)
            "plain": 1.0,
        }
    )
    # The same log under the neutral weighting: the pipeline's comparison fits both on one log.
    assert weights_of(data.weighting()) == pytest.approx({"liked": 2.0, "disliked": 2.0, "plain": 1.0})


def test_the_pipeline_drops_a_weighting_the_windows_say_hurts(shop, settings):
    # Before anything else, every visitor dwells long on the other cluster's products: with dwell
    # times in the weights, those rows pull each visitor's list towards what they never buy.
    early = timezone.now() - timedelta(days=12)
    for person in range(12):
        other = ITEMS["mugs" if person % 2 else "lights"]
        for n, item in enumerate(other):
            signal_event(f"v{person}", item, early + timedelta(minutes=n), "dwell", dwell=600.0)
    settings.PROMOTIONS = {**settings.PROMOTIONS, "TRAINING_DWELL_SECONDS": 10.0}
    version = pipeline.train(["item_knn"])
    signals = version.metrics["signals"]
    assert signals["dwell_seconds"] == 10.0 and signals["model"] == version.model_name
    assert signals["configured"]["ndcg"] < signals["neutral"]["ndcg"]
    assert signals["kept"] is False
    # The version's figures are the neutral weighting's.
    assert version.metrics["ndcg"] == pytest.approx(signals["neutral"]["ndcg"])


def test_without_signals_configured_nothing_is_compared(shop):
    version = pipeline.train(["item_knn"])
    assert "signals" not in version.metrics


def test_the_pipeline_keeps_a_weighting_the_windows_say_helps(shop, settings):
    # Early on, every visitor dwells long on the one product of their cluster they never touch
    # (and briefly on one of the other cluster): the dwell factor tells the model which mattered.
    early = timezone.now() - timedelta(days=12)
    for person in range(12):
        own, other = (ITEMS["lights"], ITEMS["mugs"]) if person % 2 else (ITEMS["mugs"], ITEMS["lights"])
        signal_event(f"v{person}", own[(person // 2 + 3) % 4], early, "dwell", dwell=600.0)
        signal_event(f"v{person}", other[person // 2 % 4], early + timedelta(minutes=1), "dwell", dwell=1.0)
    settings.PROMOTIONS = {**settings.PROMOTIONS, "TRAINING_DWELL_SECONDS": 10.0}
    version = pipeline.train(["item_knn"])
    signals = version.metrics["signals"]
    assert signals["configured"]["ndcg"] > signals["neutral"]["ndcg"]
    assert signals["kept"] is True
    assert version.metrics["ndcg"] == pytest.approx(signals["configured"]["ndcg"])
