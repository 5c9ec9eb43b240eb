"""The servable set: every model something may serve by name, so that training stores each one.

A model is named by an experiment variant's configuration (``{"model": "item_knn"}``) of an
experiment that is a draft, running or paused, by the declared winner of a concluded one, and by
``PROMOTIONS["SERVED_MODELS"]``. Training fits each of them (besides the validation winner) as its
own ``ModelVersion``; serving finds the newest stored version by name. A name with no stored version
is reported (health check ``model``, the admin's alerts, ``manage.py check --database default``),
never replaced by another model in silence.
"""

from __future__ import annotations

from django.db.models import F, Q

from ..conf import app_settings
from ..experiments.models import Experiment, Variant
from .models import ModelVersion

#: Statuses of a version that can serve (its artifact is complete).
SERVABLE = (*ModelVersion.ACTIVATABLE, ModelVersion.Status.ACTIVE)
#: Experiments whose variants may be served now or later (a paused one may resume, a draft start).
OPEN = (Experiment.Status.DRAFT, Experiment.Status.RUNNING, Experiment.Status.PAUSED)


def named_models() -> dict[str, list[str]]:
    """Each model name something may serve, with what names it ("experiment 'key' variant 'v1'",
    "SERVED_MODELS"), in a stable order."""
    named: dict[str, list[str]] = {}
    for name in app_settings.SERVED_MODELS:
        named.setdefault(str(name), []).append("SERVED_MODELS")
    variants = Variant.objects.filter(
        Q(experiment__status__in=OPEN) | Q(experiment__status=Experiment.Status.CONCLUDED, experiment__winner=F("pk"))
    ).select_related("experiment")
    for variant in variants.order_by("experiment__key", "key"):
        name = variant.config.get("model") if isinstance(variant.config, dict) else None
        if name:
            named.setdefault(str(name), []).append(f"experiment {variant.experiment.key!r} variant {variant.key!r}")
    return named


def stored_version(model_name: str) -> ModelVersion | None:
    """The newest version of this model with a complete artifact, or None."""
    return (
        ModelVersion.objects.filter(model_name=model_name, status__in=SERVABLE)
        .exclude(artifact="")
        .order_by("-pk")
        .first()
    )


def missing_models() -> dict[str, list[str]]:
    """The named models that have no stored version, with what names them."""
    return {name: where for name, where in named_models().items() if stored_version(name) is None}
