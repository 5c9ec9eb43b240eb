"""Which variant a request gets: ``variant_for(request, "key")``, the exposure being recorded then.

Decision order: a staff member's forced variant (QA, never recorded); the declared winner, for
everyone, once the experiment is concluded; the control, unrecorded, for visitors who may not be
tracked (opted out, bots, no consent) and for experiments not running; the unit's recorded variant
(sticky); targeting and hashing (traffic share, layer, weights) for a unit seen for the first
time, recorded at once: rendering the variant is the exposure. Units left out by targeting,
traffic share or layer get the control, unrecorded.
"""

from __future__ import annotations

import logging
import re

from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone

from ..conf import app_settings
from .assignment import LayerSlot, assign
from .models import Assignment, Experiment, Variant

logger = logging.getLogger(__name__)
# The "mobile" device class (tablets count as mobile); every other user agent is "desktop".
MOBILE_AGENT = re.compile(r"mobi|android|iphone|ipad|tablet", re.IGNORECASE)


def unit_id(request: HttpRequest) -> str | None:
    """The person's stable unit: the signed-in user, else the tracking visitor id."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    state = getattr(request, "promotions", None)
    return f"visitor:{state.visitor_id}" if state is not None and state.visitor_id else None


def _experiment(key: str) -> Experiment | None:
    return Experiment.objects.filter(key=key).prefetch_related("variants").first()


def _control(variants: list[Variant]) -> Variant | None:
    return next((variant for variant in variants if variant.is_control), None)


def _forced(request: HttpRequest, experiment: Experiment, variants: list[Variant]) -> Variant | None:
    user = getattr(request, "user", None)
    if user is None or not user.is_staff:
        return None
    # ?promotions_variant=<experiment key>:<variant key>, repeatable for several experiments.
    for value in request.GET.getlist(app_settings.EXPERIMENT_FORCE_PARAMETER):
        experiment_key, _, variant_key = value.partition(":")
        if experiment_key == experiment.key:
            return next((variant for variant in variants if variant.key == variant_key), None)
    return None


def matches_targeting(request: HttpRequest, targeting: dict) -> bool:
    """Whether the request fits ``{"signed_in": bool, "device": ["mobile" | "desktop", ...]}``."""
    if "signed_in" in targeting:
        user = getattr(request, "user", None)
        if bool(user is not None and user.is_authenticated) != bool(targeting["signed_in"]):
            return False
    if targeting.get("device"):
        device = "mobile" if MOBILE_AGENT.search(request.headers.get("User-Agent", "")) else "desktop"
        if device not in targeting["device"]:
            return False
    return True


def layer_slot(experiment: Experiment) -> LayerSlot | None:
    """The experiment's equal share of its layer among the layer's running experiments (by key)."""
    if not experiment.layer:
        return None
    keys = list(
        Experiment.objects.filter(layer=experiment.layer, status=Experiment.Status.RUNNING)
        .order_by("key")
        .values_list("key", flat=True)
    )
    if experiment.key not in keys:
        return LayerSlot(experiment.layer_salt, 0, 0)
    index, width = keys.index(experiment.key), 1 / len(keys)
    return LayerSlot(experiment.layer_salt, index * width, 1.0 if index == len(keys) - 1 else (index + 1) * width)


def _record(experiment: Experiment, unit: str, variant: Variant) -> Variant:
    try:
        with transaction.atomic():
            Assignment.objects.create(
                experiment=experiment, unit_id=unit, variant=variant, first_exposed_at=timezone.now()
            )
    except IntegrityError:
        # A concurrent request of the same unit recorded first: its variant is the one.
        return Assignment.objects.select_related("variant").get(experiment=experiment, unit_id=unit).variant
    return variant


def variant_for(request: HttpRequest, key: str) -> Variant | None:
    """The variant to show for experiment ``key``; None when no such experiment exists.

    Units outside the experiment (traffic share, layer, targeting) get the control unrecorded.
    Answered once per request and key: a page asking again (view, then template) costs nothing.
    """
    memo = request.__dict__.setdefault("_promotions_variants", {})
    if key not in memo:
        memo[key] = _resolve(request, key)
    return memo[key]


def _resolve(request: HttpRequest, key: str) -> Variant | None:
    experiment = _experiment(key)
    if experiment is None:
        return None
    variants = list(experiment.variants.all())
    forced = _forced(request, experiment, variants)
    if forced is not None:
        return forced
    if experiment.status == Experiment.Status.CONCLUDED:
        winner = next((variant for variant in variants if variant.pk == experiment.winner_id), None)
        if winner is not None:
            return winner
    control = _control(variants)
    state = getattr(request, "promotions", None)
    unit = unit_id(request)
    if experiment.status != Experiment.Status.RUNNING or state is None or not state.allowed or unit is None:
        return control
    existing = Assignment.objects.filter(experiment=experiment, unit_id=unit).select_related("variant").first()
    if existing is not None:
        return existing.variant
    if not matches_targeting(request, experiment.targeting or {}):
        return control
    try:
        chosen = assign(unit, experiment.spec(variants, layer_slot(experiment)))
    except ValueError:
        # Variants edited outside the admin's checks (weights not summing to 1...): the page is served.
        logger.exception("promotions: experiment %r is misconfigured; showing the control", key)
        return control
    if chosen is None:
        return control
    return _record(experiment, unit, next(variant for variant in variants if variant.key == chosen))
