"""A person in the trained models: exported, erased from every stored artifact, and old artifacts
deleted after ``PROMOTIONS["MODEL_ARTIFACTS_KEEP"]`` versions.

A model stores rows per person (``u:<user id>`` or a visitor id, as training names them: their
items, weights, times, a sequence or a neighbour vector). Erasing a person rewrites every stored
artifact without their rows (``Recommender.forget_users``) under a new file name; serving keys its
loaded model by the artifact's name, so each process serves the rewritten model within
``versions.ACTIVE_CHECK_SECONDS`` (the erasing process at once). What they contributed to shared
item parameters stays until the next training, which no longer sees their deleted events.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from django.core.files.base import ContentFile
from django.db import transaction

from ..conf import app_settings
from ..recommenders import Recommender
from ..tracking.privacy import Person
from ..visitors.keys import user_person_id
from .models import ModelVersion
from .servable import named_models, stored_version

logger = logging.getLogger(__name__)

#: Versions whose artifact may be served (again); a training in progress has not written its own.
STORED = (*ModelVersion.ACTIVATABLE, ModelVersion.Status.ACTIVE)


def model_ids(person: Person) -> list[str]:
    """The ids the models know this person by (``training.data.person_id``)."""
    ids = list(person.visitor_ids)
    if person.user_id is not None:
        ids.append(user_person_id(person.user_id))
    return ids


def _holding(person: Person) -> Iterator[tuple[ModelVersion, Recommender, list[str]]]:
    """(version, its model, the person's ids it knows) of each stored version that holds them."""
    ids = model_ids(person)
    for version in ModelVersion.objects.filter(status__in=STORED).exclude(artifact="").order_by("pk"):
        try:
            with version.artifact.open("rb") as handle:
                data = handle.read()
            stored = set(Recommender.stored_user_ids(data))  # a quick look: no need to load the model
        except Exception:  # missing or corrupt: serving cannot load it either
            logger.exception("Model version %s cannot be read; it is not searched for the person", version.pk)
            continue
        known = [key for key in ids if key in stored]
        if known:
            yield version, Recommender.load(data), known


def export_models(person: Person) -> list[dict[str, object]]:
    """Per stored version that holds the person: the items it keeps for each of their ids."""
    found = []
    for version, model, ids in _holding(person):
        items = {}
        for key in ids:
            start, stop = model.user_items.indptr[model.user_index[key] : model.user_index[key] + 2]
            items[key] = [str(model.item_ids[i]) for i in model.user_items.indices[start:stop]]
        found.append({"version": version.pk, "model": version.model_name, "items": items})
    return found


def erase_models(person: Person) -> int:
    """Rewrite every stored artifact without the person's rows; returns the rows removed.

    The old files are deleted once the erasure's transaction commits, so the database never names
    a missing file; a rolled-back erasure leaves its new files (without the person) unnamed.
    """
    removed = 0
    for version, model, ids in _holding(person):
        forgotten = model.forget_users(ids)
        old = version.artifact.name
        # Uncompressed: a second instead of half a minute for a large model while the erasure waits.
        content = ContentFile(model.save(compress=False))
        version.artifact.save(f"{version.model_name or 'model'}-{version.pk}.npz", content, save=False)
        version.save(update_fields=["artifact"])  # post_save: this process reloads at once
        storage = version.artifact.storage
        transaction.on_commit(lambda name=old, storage=storage: storage.delete(name))
        removed += forgotten
    return removed


def purge_old_artifacts() -> int:
    """Delete the artifacts of all but the newest ``MODEL_ARTIFACTS_KEEP`` stored versions; the
    active version's is never deleted. Their rows stay (with their figures) but can no longer be
    activated. The newest version of each model of the servable set is kept too (a variant serves
    it by name). Returns the artifacts deleted."""
    keep = max(int(app_settings.MODEL_ARTIFACTS_KEEP), 1)
    with_artifacts = ModelVersion.objects.exclude(artifact="").exclude(status=ModelVersion.Status.TRAINING)
    newest = list(with_artifacts.order_by("-pk").values_list("pk", flat=True)[:keep])
    newest += [version.pk for version in map(stored_version, named_models()) if version is not None]
    deleted = 0
    for version in with_artifacts.exclude(pk__in=newest).exclude(status=ModelVersion.Status.ACTIVE):
        name = version.artifact.name
        version.artifact.storage.delete(name)
        ModelVersion.objects.filter(pk=version.pk).update(artifact="")
        logger.info("Deleted the artifact %s of model version %s", name, version.pk)
        deleted += 1
    return deleted
