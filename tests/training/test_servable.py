"""The servable set: training stores every model a variant or SERVED_MODELS names, each as its own
version with its validation figures; a named model with no version is reported, never replaced."""

from __future__ import annotations

from decimal import Decimal

from django.core.checks import run_checks

from promotions.experiments.models import Experiment, Variant
from promotions.ops.health import run_check
from promotions.training import pipeline
from promotions.training.erasure import purge_old_artifacts
from promotions.training.models import ModelVersion
from promotions.training.servable import missing_models, named_models, stored_version

Status = ModelVersion.Status


def model_experiment(models=("hybrid", "item_knn"), status="running", key="recs") -> Experiment:
    experiment = Experiment.objects.create(key=key, name=key, status=status)
    for index, model in enumerate(models):
        Variant.objects.create(
            experiment=experiment,
            key="control" if index == 0 else f"v{index}",
            weight=Decimal(1) / len(models),
            is_control=index == 0,
            config={"model": model},
        )
    return experiment


def test_the_set_is_what_open_experiments_a_concluded_winner_and_the_setting_name(db, settings):
    settings.PROMOTIONS = {**settings.PROMOTIONS, "SERVED_MODELS": ["ease"]}
    model_experiment(("hybrid", "item_knn"), "paused", "a")
    model_experiment(("trending", "user_knn"), "stopped", "b")  # stopped: serves nothing any more
    concluded = model_experiment(("content", "popularity"), "concluded", "c")
    concluded.winner = concluded.variants.get(key="v1")
    concluded.save()
    named = named_models()
    assert set(named) == {"ease", "hybrid", "item_knn", "popularity"}
    assert named["ease"] == ["SERVED_MODELS"]
    assert named["item_knn"] == ["experiment 'a' variant 'v1'"]


def test_training_stores_each_named_model_as_its_own_version_with_its_figures(shop, settings):
    settings.PROMOTIONS = {**settings.PROMOTIONS, "SERVED_MODELS": ["ease"]}
    model_experiment(("hybrid", "item_knn"))
    assert set(missing_models()) == {"ease", "hybrid", "item_knn"}
    run = pipeline.train(["popularity"])  # only popularity competes: the others are stored, not chosen
    assert run.model_name == "popularity" and run.status == Status.ACTIVE
    stored = run.metrics["servable"]
    assert set(stored) == {"popularity", "ease", "hybrid", "item_knn"} and stored["popularity"] == run.pk
    for name in ("ease", "hybrid", "item_knn"):
        version = ModelVersion.objects.get(pk=stored[name])
        assert version.model_name == name and version.status == Status.READY
        assert stored_version(name) == version
        # its own validation figures, from the same windows as the run's candidates
        windows = pipeline.validation_windows(pipeline.data.interaction_log())
        params, figures = pipeline.candidate(name, windows, pipeline.data.catalogue(), pipeline.data.weighting())
        assert version.metrics["ndcg"] == figures["ndcg"] and version.parameters.items() >= params.items()
        assert version.metrics["run"] == run.pk and version.metrics["windows"] == run.metrics["windows"]
        assert version.training_rows == run.training_rows == 36
        assert version.load_model().name == name
    assert ModelVersion.objects.get(pk=stored["item_knn"]).metrics["servable_for"] == ["experiment 'recs' variant 'v1'"]
    assert missing_models() == {}
    assert ModelVersion.objects.filter(status=Status.ACTIVE).get() == run  # storing is not activating


def test_a_model_that_fails_or_is_unknown_stops_none_of_the_others(shop, monkeypatch):
    model_experiment(("nonsense", "item_knn", "ease"))
    real = pipeline._fit_and_store

    def failing(version, name, *args):
        if name == "item_knn":
            raise MemoryError("too big")
        return real(version, name, *args)

    monkeypatch.setattr(pipeline, "_fit_and_store", failing)
    run = pipeline.train(["popularity"])
    assert run.status == Status.ACTIVE
    stored = run.metrics["servable"]
    assert stored["nonsense"] == "unknown model" and stored["item_knn"] == "MemoryError: too big"
    assert ModelVersion.objects.get(pk=stored["ease"]).model_name == "ease"
    assert set(missing_models()) == {"nonsense", "item_knn"}
    assert not ModelVersion.objects.filter(model_name="item_knn").exists()  # no half-written version


def test_a_missing_model_is_a_health_warning_an_admin_alert_and_a_system_check(shop, settings):
    model_experiment(("hybrid", "item_knn"))
    pipeline.train(["popularity"])
    assert run_check("model").warnings == []
    assert not [m for m in run_checks(databases=["default"]) if m.id == "promotions.W002"]
    ModelVersion.objects.filter(model_name="item_knn").update(artifact="")  # e.g. purged by hand
    result = run_check("model")
    assert result.ok and len(result.warnings) == 1 and "item_knn" in result.warnings[0]
    assert "experiment 'recs' variant 'v1'" in result.warnings[0]
    found = [m for m in run_checks(databases=["default"]) if m.id == "promotions.W002"]
    assert len(found) == 1 and "'item_knn'" in found[0].msg
    assert not [m for m in run_checks() if m.id == "promotions.W002"]  # only with --database


def test_the_purge_keeps_the_newest_version_of_each_named_model(shop, settings):
    settings.PROMOTIONS = {**settings.PROMOTIONS, "MODEL_ARTIFACTS_KEEP": 1}
    model_experiment(("hybrid", "item_knn"))
    first = pipeline.train(["popularity"])
    pipeline.train(["popularity"])
    purge_old_artifacts()
    kept = set(ModelVersion.objects.exclude(artifact="").values_list("model_name", "pk"))
    newest = {name: stored_version(name).pk for name in ("hybrid", "item_knn")}
    assert {("hybrid", newest["hybrid"]), ("item_knn", newest["item_knn"])} <= kept
    assert ModelVersion.objects.get(pk=first.metrics["servable"]["hybrid"]).artifact == ""  # an older one goes


def test_an_unknown_served_model_is_a_settings_error(db, settings):
    settings.PROMOTIONS = {**settings.PROMOTIONS, "SERVED_MODELS": ["item_knn", "nope"]}
    errors = [m for m in run_checks() if m.id == "promotions.E008"]
    assert len(errors) == 1 and "'SERVED_MODELS'" in errors[0].msg and "nope" in errors[0].msg
    settings.PROMOTIONS = {**settings.PROMOTIONS, "SERVED_MODELS": []}
    assert not [m for m in run_checks() if m.id == "promotions.E008"]
