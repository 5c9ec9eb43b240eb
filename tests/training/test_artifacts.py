"""Stored artifacts: a new one is memory-mapped from the storage's file, an older one still serves."""

from django.core.files.base import ContentFile
from django.core.files.storage import Storage

from promotions.recommenders import Recommender
from promotions.recommenders.base import FORMAT_VERSION, artifact_format
from promotions.tracking.privacy import erase_person, find_person
from promotions.training import pipeline, versions
from promotions.training.models import ModelVersion
from tests.recommenders.test_artifact import mapped

Status = ModelVersion.Status


def test_a_trained_version_is_written_in_the_current_format_and_served_mapped(shop):
    version = pipeline.train(["user_knn"])
    assert artifact_format(version.artifact.path) == FORMAT_VERSION
    model = versions.active_model()
    assert mapped(model.user_items.data) and mapped(model.user_neighbours.indices)
    assert model.recommend("v1", k=3) == Recommender.load(version.artifact.read()).recommend("v1", k=3)


def test_an_artifact_of_the_earlier_format_still_serves_and_erasure_rewrites_it(shop):
    version = pipeline.train(["item_knn"])
    current = version.load_model()
    legacy = current.save(compress=True)  # format 1, what versions trained before wrote
    assert artifact_format(legacy) == 1
    version.artifact.save(f"item_knn-{version.pk}.npz", ContentFile(legacy), save=True)
    versions._loaded = None
    served = versions.active_model()
    assert not mapped(served.user_items.data)  # read and decompressed, as before
    assert served.recommend("v2", k=3) == current.recommend("v2", k=3)
    # Erasing someone rewrites it in the current format, without them.
    erase_person(find_person(visitor="v2"))
    version.refresh_from_db()
    assert artifact_format(version.artifact.path) == FORMAT_VERSION
    rewritten = versions.active_model()
    assert "v2" not in rewritten.user_index and "v3" in rewritten.user_index
    assert mapped(rewritten.user_items.data)


class RemoteStorage(Storage):
    """A storage without local paths (as S3's): files are read as bytes."""

    files: dict[str, bytes] = {}

    def _save(self, name, content):
        self.files[name] = content.read()
        return name

    def _open(self, name, mode="rb"):
        return ContentFile(self.files[name], name=name)

    def exists(self, name):
        return name in self.files

    def delete(self, name):
        self.files.pop(name, None)


def test_a_storage_without_local_files_is_read_as_bytes(shop):
    version = pipeline.train(["item_knn"])
    expected = version.load_model().recommend("v4", k=3)
    remote = ModelVersion.objects.get(pk=version.pk)
    remote.artifact.storage = RemoteStorage()
    remote.artifact.storage.save(version.artifact.name, ContentFile(version.artifact.read()))
    model = remote.load_model()
    assert not mapped(model.user_items.data)
    assert model.recommend("v4", k=3) == expected
