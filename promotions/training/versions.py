"""Activating a version, and loading the active one for serving.

Activation is one transaction over locked rows, and the database allows one active row only
(``promo_one_active_model``), so there is never zero-then-two active versions. A version's
artifact is written before its row says it is ready, so a reader never sees a half-written file.
"""

from __future__ import annotations

import logging
import threading
import time

from django.db import transaction
from django.utils.translation import gettext as _

from ..recommenders import Recommender
from .models import ModelVersion

logger = logging.getLogger(__name__)

Status = ModelVersion.Status

# Per process: ((active version id, artifact name), the model serving it). Reloaded when either
# changes: another version is activated, or an erasure rewrote the artifact without a person.
_loaded: tuple[tuple[int, str], Recommender] | None = None
_lock = threading.Lock()
#: Per process: (monotonic time, (active version id, artifact name) or None) of the last look.
_checked: tuple[float, tuple[int, str] | None] | None = None
ACTIVE_CHECK_SECONDS = 5.0


class ActivationError(ValueError):
    """The version cannot be activated (it failed, is still training, or has no artifact)."""


def activate(version_id: int) -> ModelVersion:
    """Make this version the active one and retire the previous active one, atomically."""
    with transaction.atomic():
        version = ModelVersion.objects.select_for_update().get(pk=version_id)
        if version.status == Status.ACTIVE:
            return version
        if version.status not in ModelVersion.ACTIVATABLE or not version.artifact:
            raise ActivationError(
                _("Model version %(id)s cannot be activated: it is %(status)s.")
                % {"id": version.pk, "status": version.get_status_display()}
            )
        # Retire first: the unique constraint allows one active row at any moment.
        list(ModelVersion.objects.select_for_update().filter(status=Status.ACTIVE))
        ModelVersion.objects.filter(status=Status.ACTIVE).update(status=Status.RETIRED)
        version.status = Status.ACTIVE
        version.save(update_fields=["status"])
    forget_active()
    logger.info("Model version %s (%s) is now active", version.pk, version.model_name)
    return version


def active_version() -> ModelVersion | None:
    return ModelVersion.objects.filter(status=Status.ACTIVE).first()


def active_version_id() -> int | None:
    """The active version's id, read at most every ``ACTIVE_CHECK_SECONDS`` per process (serving
    asks on every render; an activation elsewhere is seen within that time, here at once)."""
    stamp = _active_stamp()
    return None if stamp is None else stamp[0]


def _active_stamp() -> tuple[int, str] | None:
    global _checked
    checked = _checked
    now = time.monotonic()
    if checked is not None and now - checked[0] < ACTIVE_CHECK_SECONDS:
        return checked[1]
    stamp = ModelVersion.objects.filter(status=Status.ACTIVE).values_list("pk", "artifact").first()
    _checked = (now, stamp)
    return stamp


def forget_active(*args: object, **kwargs: object) -> None:
    """Look at the table on the next call (also the receiver of ModelVersion saves)."""
    global _checked
    _checked = None


def active_model() -> Recommender | None:
    """The active version's model, loaded once per process and reloaded when another is activated.

    A missing or corrupt artifact is logged and the newest earlier version that loads is served
    instead (the database is left as it is: an admin decides what to activate).
    """
    global _loaded
    stamp = _active_stamp()
    if stamp is None:
        return None
    loaded = _loaded
    if loaded is not None and loaded[0] == stamp:
        return loaded[1]
    with _lock:
        if _loaded is None or _loaded[0] != stamp:
            _loaded = (stamp, _load_with_fallback(stamp[0]))
        return _loaded[1]


def _load_with_fallback(active_id: int) -> Recommender | None:
    earlier = ModelVersion.objects.filter(pk__lt=active_id, status__in=ModelVersion.ACTIVATABLE).exclude(artifact="")
    for version in [ModelVersion.objects.get(pk=active_id), *earlier.order_by("-pk")]:
        try:
            model = version.load_model()
        except Exception:  # any unreadable artifact: missing file, truncated or foreign bytes
            logger.exception("Model version %s cannot be loaded; trying the previous ready version", version.pk)
            continue
        if version.pk != active_id:
            logger.warning("Serving model version %s instead of the active version %s", version.pk, active_id)
        return model
    logger.error("No model version can be loaded; serving without a trained model")
    return None
