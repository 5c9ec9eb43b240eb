"""A missing model artifact falls back to the previous version, as a corrupt one does
(tests/training/test_pipeline.py::test_a_corrupt_artifact_falls_back_to_the_previous_version)."""

from promotions.recommenders import Recommender
from promotions.training import pipeline, versions
from promotions.training.versions import active_model, active_version
from tests.training.conftest import catalogue, isolated, shop  # noqa: F401 (fixtures)


def test_a_missing_artifact_falls_back_to_the_previous_version(shop, caplog):  # noqa: F811
    first = pipeline.train(["popularity"])
    second = pipeline.train(["item_knn"])
    assert active_version() == second
    second.artifact.storage.delete(second.artifact.name)  # a lost volume, a half-finished deploy
    versions._loaded = None  # a web process that has not loaded the model yet
    model = active_model()
    assert isinstance(model, Recommender) and model.name == first.model_name
    assert f"Model version {second.pk} cannot be loaded" in caplog.text
