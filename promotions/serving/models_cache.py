"""The model serving uses: the active version, or the newest ready version of a named model
(when an experiment variant asks for one), each loaded once per process."""

from __future__ import annotations

import logging
import threading

from ..recommenders import Recommender
from ..training import versions
from ..training.models import ModelVersion

logger = logging.getLogger(__name__)

SERVABLE = (*ModelVersion.ACTIVATABLE, ModelVersion.Status.ACTIVE)
#: Keyed by (version id, artifact name): an erasure that rewrites an artifact renames it.
_named: dict[tuple[int, str], Recommender] = {}
_lock = threading.Lock()


def model_for_serving(model_name: str | None) -> tuple[int | None, Recommender | None]:
    """(version id, model); ``model_name`` None means the active version."""
    if model_name is None:
        return versions.active_version_id(), versions.active_model()
    version = (
        ModelVersion.objects.filter(
            model_name=model_name, status__in=(*ModelVersion.ACTIVATABLE, ModelVersion.Status.ACTIVE)
        )
        .exclude(artifact="")
        .order_by("-pk")
        .first()
    )
    if version is None:
        logger.warning("promotions: no ready version of model %r; serving the active model", model_name)
        return versions.active_version_id(), versions.active_model()
    key = (version.pk, version.artifact.name)
    if key not in _named:
        with _lock:
            if len(_named) > 8:
                _named.clear()
            _named[key] = version.load_model()
    return version.pk, _named[key]
