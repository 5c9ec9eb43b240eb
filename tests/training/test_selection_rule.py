"""Training keeps popularity or trending active unless a model beats them on average and on the
most recent validation window; the hybrid's freshness is chosen on the windows."""

from __future__ import annotations

from promotions.evaluation.selection import shrunk_choice
from promotions.training import pipeline
from promotions.training.models import ModelVersion
from promotions.training.versions import active_version


def scores(table: dict[str, tuple[float, float]]):
    """A stand-in for ``pipeline.score``: each model's (mean over the windows, most recent window)."""

    def score(name, params, windows, items, weighting):
        mean, latest = table[name]
        return {"ndcg": mean, "recall": mean, "hr": mean, "precision": mean, "map": mean, "coverage": 1.0,
                "fit_seconds": 0.0, "users": 10, "latest": latest, "windows_ndcg": [mean, mean, latest]}  # fmt: skip

    return score


def test_a_model_that_wins_on_average_but_loses_on_the_latest_window_is_not_activated(shop, monkeypatch):
    monkeypatch.setattr(pipeline, "score", scores({"popularity": (0.2, 0.2), "trending": (0.25, 0.3),
                                                   "item_knn": (0.5, 0.28)}))  # fmt: skip
    version = pipeline.train(["trending", "item_knn"])
    assert version.model_name == "trending" and active_version() == version
    assert "most recent window" in version.metrics["selection"]
    monkeypatch.setattr(pipeline, "score", scores({"popularity": (0.2, 0.2), "trending": (0.25, 0.3),
                                                   "item_knn": (0.5, 0.35)}))  # fmt: skip
    assert pipeline.train(["trending", "item_knn"]).model_name == "item_knn"
    assert active_version().model_name == "item_knn"


def test_an_active_model_that_now_loses_on_the_latest_window_gives_way_to_the_baseline(shop, monkeypatch):
    monkeypatch.setattr(pipeline, "score", scores({"popularity": (0.2, 0.2), "item_knn": (0.5, 0.35)}))
    first = pipeline.train(["item_knn"])
    assert active_version() == first
    # The season turns: item-kNN still leads on average, but not on the most recent window.
    monkeypatch.setattr(pipeline, "score", scores({"popularity": (0.2, 0.2), "item_knn": (0.5, 0.15)}))
    second = pipeline.train(["item_knn"])
    assert second.model_name == "popularity" and second.metrics["current"]["version"] == first.pk
    assert active_version() == second


def test_the_hybrid_freshness_is_chosen_on_the_windows_and_stored_with_the_version(shop, settings):
    settings.PROMOTIONS = {**settings.PROMOTIONS, "SERVED_MODELS": ["hybrid"]}
    run = pipeline.train(["popularity"])
    hybrid = ModelVersion.objects.get(pk=run.metrics["servable"]["hybrid"])
    # Served but not a candidate: its figures and freshness come from its own tuning on the windows.
    gains = hybrid.metrics.get("freshness_gains")
    assert gains is None or set(gains) == {"0.0", "0.5", "1.0"}
    run = pipeline.train(["hybrid"])
    gains = run.metrics["candidates"]["hybrid"]["freshness_gains"]
    assert set(gains) == {"0.0", "0.5", "1.0"} and len(gains["1.0"]) == run.metrics["windows"]
    chosen = shrunk_choice({float(s): g for s, g in gains.items() if s != "0.0"})
    newest = ModelVersion.objects.filter(model_name="hybrid").order_by("-pk").first()
    assert newest.parameters["freshness"] == chosen
    assert run.metrics["candidates"]["hybrid"]["latest"] == run.metrics["candidates"]["hybrid"]["windows_ndcg"][-1]
