from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils import timezone

from promotions.recommenders import ItemKNNRecommender, Recommender
from promotions.tracking.models import Visitor
from promotions.tracking.privacy import erase_person, find_person, user_cache_key, visitor_cache_key
from promotions.training import pipeline, versions
from promotions.training.models import ModelVersion
from promotions.training.versions import active_model, active_version

from .conftest import add_event

Status = ModelVersion.Status


def fake_scores(table):
    """A stand-in for ``pipeline.score`` giving each model a fixed validation NDCG."""

    def score(name, params, windows, items, weighting):
        value = table[name]
        return {
            "ndcg": value,
            "recall": value,
            "hr": value,
            "precision": value,
            "map": value,
            "coverage": 1.0,
            "fit_seconds": 0.0,
            "users": 10,
        }

    return score


def test_training_scores_every_model_and_activates_the_best(shop, tmp_path):
    version = pipeline.train(["item_knn", "hybrid"])
    assert version.status == Status.ACTIVE
    candidates = version.metrics["candidates"]
    # jsonb (PostgreSQL) does not keep key order: compare as a set
    assert set(candidates) == {"popularity", "item_knn", "hybrid"}  # the baseline is always scored
    assert version.model_name == max(candidates, key=lambda name: candidates[name]["ndcg"])
    assert version.metrics["ndcg"] >= candidates["popularity"]["ndcg"]
    assert version.training_rows == 36 and version.training_users == 12 and version.training_items == 8
    assert version.artifact.name.startswith("promotions/models/")
    assert (tmp_path / "media" / version.artifact.name).exists()
    assert ModelVersion.objects.filter(status=Status.ACTIVE).count() == 1


def test_the_choice_prefers_the_simpler_model_on_ties_and_never_one_losing_to_popularity(shop, monkeypatch):
    monkeypatch.setattr(pipeline, "score", fake_scores({"popularity": 0.3, "trending": 0.2, "ease": 0.3}))
    assert pipeline.train(["trending", "ease"]).model_name == "popularity"
    monkeypatch.setattr(pipeline, "score", fake_scores({"popularity": 0.3, "trending": 0.2, "ease": 0.4}))
    assert pipeline.train(["trending", "ease"]).model_name == "ease"


def test_a_failed_training_keeps_the_active_version(shop, monkeypatch):
    first = pipeline.train(["item_knn"])
    monkeypatch.setattr(ItemKNNRecommender, "fit", lambda *args, **kwargs: 1 / 0)
    failed = pipeline.train(["item_knn"])
    assert failed.status == Status.FAILED
    assert "ZeroDivisionError" in failed.error
    assert failed.finished_at is not None and not failed.artifact
    assert active_version() == first
    assert ModelVersion.objects.filter(status=Status.ACTIVE).count() == 1


def test_a_new_best_below_the_rescored_active_model_keeps_the_active_version(shop, monkeypatch):
    monkeypatch.setattr(pipeline, "score", fake_scores({"popularity": 0.2, "trending": 0.3, "item_knn": 0.5}))
    first = pipeline.train(["item_knn"])
    assert first.model_name == "item_knn"
    new = pipeline.train(["trending"])  # item_knn, re-scored on the same windows, still wins
    new.refresh_from_db()
    assert new.status == Status.READY and new.model_name == "trending"
    assert new.metrics["current"]["version"] == first.pk and new.metrics["current"]["ndcg"] == 0.5
    assert active_version() == first


def test_at_most_one_version_is_active(db):
    ModelVersion.objects.create(status=Status.ACTIVE)
    with pytest.raises(IntegrityError), transaction.atomic():
        ModelVersion.objects.create(status=Status.ACTIVE)


def test_activation_retires_the_previous_version_and_refuses_failed_ones(shop):
    first = pipeline.train(["popularity"])
    second = pipeline.train(["popularity"])
    assert active_version() == second
    versions.activate(first.pk)
    assert active_version() == first
    assert ModelVersion.objects.get(pk=second.pk).status == Status.RETIRED
    failed = ModelVersion.objects.create(status=Status.FAILED)
    with pytest.raises(versions.ActivationError):
        versions.activate(failed.pk)


def test_the_artifact_round_trips_through_storage(shop):
    version = pipeline.train(["item_knn"])
    loaded = version.load_model()
    fitted = ItemKNNRecommender().fit(
        pipeline.data.interaction_log().to_interactions(pipeline.data.weighting()), pipeline.data.catalogue()
    )
    assert loaded.recommend(history=["L1"], k=5) == fitted.recommend(history=["L1"], k=5)
    assert active_model() is active_model()  # loaded once per process


def test_a_corrupt_artifact_falls_back_to_the_previous_version(shop, caplog):
    first = pipeline.train(["popularity"])
    second = pipeline.train(["item_knn"])
    assert active_version() == second
    with second.artifact.open("wb") as handle:
        handle.write(b"not a model")
    versions._loaded = None  # a web process that has not loaded the model yet
    model = active_model()
    assert isinstance(model, Recommender) and model.name == first.model_name
    assert f"Model version {second.pk} cannot be loaded" in caplog.text


def test_serving_reloads_when_another_version_is_activated(shop):
    first = pipeline.train(["popularity"])
    pipeline.train(["item_knn"])
    assert active_model().name == "item_knn"
    versions.activate(first.pk)
    assert active_model().name == "popularity"


def test_top_n_lists_are_precomputed_and_erased_with_the_person(shop, settings):
    settings.PROMOTIONS = {**settings.PROMOTIONS, "PRECOMPUTE_TOP_N": 3}
    alice = get_user_model().objects.create_user("alice")
    Visitor.objects.create(key="v1", user=alice)
    add_event("gone", "L1", timezone.now() - timedelta(days=30))  # not recently active
    version = pipeline.train(["item_knn"])
    cached = cache.get(visitor_cache_key("v0", "recommendations"))
    assert cached["version"] == version.pk and 0 < len(cached["items"]) <= 3
    assert {"item_id", "score", "reason"} <= set(cached["items"][0])
    assert cache.get(user_cache_key(alice.pk, "recommendations")) == cache.get(
        visitor_cache_key("v1", "recommendations")
    )
    assert cache.get(visitor_cache_key("gone", "recommendations")) is None
    erase_person(find_person(user=alice.pk))
    assert cache.get(user_cache_key(alice.pk, "recommendations")) is None
    assert cache.get(visitor_cache_key("v1", "recommendations")) is None


def test_no_events_means_nothing_to_train(db):
    assert pipeline.train() is None
    assert not ModelVersion.objects.exists()


def test_a_run_in_progress_blocks_another_unless_it_is_stale(shop):
    running = ModelVersion.objects.create(status=Status.TRAINING)
    with pytest.raises(pipeline.TrainingInProgressError):
        pipeline.train(["popularity"])
    ModelVersion.objects.filter(pk=running.pk).update(created_at=timezone.now() - pipeline.STALE_RUN)
    assert pipeline.train(["popularity"]).status == Status.ACTIVE
