"""The model serving uses: the active version, or the newest stored version of a named model
(when an experiment variant asks for one), each loaded once per process.

A named model with no stored version is never replaced by the active one (that would serve one
variant's visitors the other variant's model): the caller gets no model and serves best sellers,
a fallback line is logged, and the health check ``model``, the admin's alerts and ``manage.py
check --database default`` report the missing model until training stores it
(``promotions.training.servable``).
"""

from __future__ import annotations

import threading

from ..fallbacks import log_fallback
from ..recommenders import Recommender
from ..training import versions
from ..training.servable import stored_version

#: Keyed by (version id, artifact name): an erasure that rewrites an artifact renames it.
_named: dict[tuple[int, str], Recommender] = {}
_lock = threading.Lock()


def model_for_serving(model_name: str | None) -> tuple[int | None, Recommender | None]:
    """(version id, model); ``model_name`` None means the active version; (None, None) when the
    named model has no stored version."""
    if model_name is None:
        return versions.active_version_id(), versions.active_model()
    version = stored_version(model_name)
    if version is None:
        log_fallback("model_missing", model=model_name)
        return None, None
    key = (version.pk, version.artifact.name)
    if key not in _named:
        with _lock:
            if len(_named) > 8:
                _named.clear()
            _named[key] = version.load_model()
    return version.pk, _named[key]
