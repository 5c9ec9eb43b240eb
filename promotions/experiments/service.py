"""Which variant a request gets: ``variant_for(request, "key")``, the exposure being recorded then.

Decision order: a staff member's forced variant (QA, never recorded); the control, unrecorded, for
people in the global holdout (``promotions.visitors.holdout``: never enrolled, and a concluded
experiment's winner never reaches them); the declared winner, for everyone else, once the
experiment is concluded; the control, unrecorded, for visitors who may not be tracked (opted out,
bots, no consent) and for experiments not running; the unit's recorded variant (sticky); targeting
and hashing (traffic share, layer, weights) for a unit seen for the first time, recorded at once:
rendering the variant is the exposure. Units left out by targeting, traffic share or layer get the
control, unrecorded.
"""

from __future__ import annotations

import logging

from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone

from ..conf import app_settings
from ..visitors import segments
from ..visitors.holdout import in_holdout
from .models import Assignment, Experiment, Variant
from .stats.assignment import LayerSlot, assign

logger = logging.getLogger(__name__)


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


def visitor_country(request: HttpRequest) -> str | None:
    """The ISO country code a CDN or proxy put in ``PROMOTIONS["COUNTRY_HEADER"]``, upper case."""
    value = request.META.get(app_settings.COUNTRY_HEADER, "").strip().upper()
    return value or None


def in_segment(request: HttpRequest, name: str) -> bool:
    """Whether the shop-registered segment ``name`` (``PROMOTIONS["SEGMENTS"]``) holds the visitor.

    An unknown name or a failing callable is logged and answers False: the visitor is simply not
    targeted, and the page is served.
    """
    try:
        check = app_settings.imported("SEGMENTS", name)
        return bool(check(request)) if check else False
    except Exception:
        path = app_settings.SEGMENTS.get(name)
        logger.exception("promotions: segment %r (%s) failed; the visitor is not in it", name, path)
        return False


def matches_targeting(request: HttpRequest, targeting: dict) -> bool:
    """Whether the request fits every key of the targeting (see ``models.TARGETING_KEYS``).

    ``signed_in`` and ``returning`` are booleans (``"returning": false`` targets new visitors);
    ``device``, ``country`` and ``segments`` are lists, any one of whose entries is enough. The
    cheap keys are tested first: ``returning`` may read the database, a segment runs shop code.
    """
    if "signed_in" in targeting and segments.signed_in(request) != targeting["signed_in"]:
        return False
    if targeting.get("device") and segments.device_class(request) not in targeting["device"]:
        return False
    if targeting.get("country"):
        country = visitor_country(request)
        if country is None or country not in {code.upper() for code in targeting["country"]}:
            return False
    if "returning" in targeting and segments.is_returning(request) != targeting["returning"]:
        return False
    return not targeting.get("segments") or any(in_segment(request, name) for name in targeting["segments"])


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
    control = _control(variants)
    if in_holdout(request):
        return control
    if experiment.status == Experiment.Status.CONCLUDED:
        winner = next((variant for variant in variants if variant.pk == experiment.winner_id), None)
        if winner is not None:
            return winner
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
