"""A/B experiments: their variants and the units exposed to them.

Assignment itself is the pure hashing of ``assignment.py``; these models hold what the admin
configures and, per unit, the variant recorded at its first exposure, which wins over hashing from
then on (changing weights later does not move exposed units).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from ..conf import app_settings
from .stats.assignment import WEIGHT_TOLERANCE, ExperimentSpec, LayerSlot, VariantSpec

SHARE_VALIDATORS = [MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(1))]
#: Device classes of ``promotions.visitors.segments.device_class``.
DEVICE_CLASSES = ("mobile", "desktop")
#: Targeting understood by ``variant_for``; a visitor must fit every key given.
TARGETING_KEYS = ("signed_in", "returning", "device", "country", "segments")
# An ISO 3166-1 alpha-2 code, as CDNs send it.
COUNTRY_CODE = re.compile(r"[A-Za-z]{2}")


class Experiment(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("draft")
        RUNNING = "running", _("running")
        PAUSED = "paused", _("paused")
        STOPPED = "stopped", _("stopped")
        CONCLUDED = "concluded", _("concluded")

    class Metric(models.TextChoices):
        CONVERSION = "conversion", _("conversion (purchase after exposure)")
        REVENUE = "revenue_per_visitor", _("revenue per visitor")
        ADD_TO_CART = "add_to_cart", _("add to cart")
        PROMOTION_CLICK = "promotion_click", _("promotion click")

    class Method(models.TextChoices):
        FREQUENTIST = "frequentist", _("frequentist (fixed horizon)")
        BAYESIAN = "bayesian", _("Bayesian")
        SEQUENTIAL = "sequential", _("sequential (always valid)")

    key = models.SlugField(_("key"), max_length=64, unique=True, help_text=_("Used in templates and code."))
    name = models.CharField(_("name"), max_length=200)
    hypothesis = models.TextField(_("hypothesis"), blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.DRAFT)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    ended_at = models.DateTimeField(pgettext_lazy("date", "ended"), null=True, blank=True)
    traffic_share = models.DecimalField(
        _("traffic share"),
        max_digits=5,
        decimal_places=4,
        default=Decimal(1),
        validators=SHARE_VALIDATORS,
        help_text=_("Share of visitors enrolled, from 0 to 1."),
    )
    layer = models.SlugField(
        _("layer"),
        max_length=64,
        blank=True,
        help_text=_("Running experiments of one layer split its visitors equally: a visitor is in at most one."),
    )
    salt = models.CharField(
        _("salt"), max_length=64, blank=True, help_text=_("Hashing salt; the key when left empty. Never change it.")
    )
    primary_metric = models.CharField(
        _("primary metric"), max_length=32, choices=Metric.choices, default=Metric.CONVERSION
    )
    guardrail_metrics = models.JSONField(_("guardrail metrics"), default=list, blank=True)
    analysis_method = models.CharField(
        _("analysis method"), max_length=16, choices=Method.choices, default=Method.FREQUENTIST
    )
    pause_on_guardrail_harm = models.BooleanField(
        _("pause on guardrail harm"),
        default=False,
        help_text=_("Pause by itself when a guardrail metric is significantly worse (sequential test)."),
    )
    targeting = models.JSONField(
        _("targeting"),
        default=dict,
        blank=True,
        help_text=_('For example {"signed_in": true, "device": ["mobile"]}; empty targets everyone.'),
    )
    winner = models.ForeignKey(
        "Variant",
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("winner"),
        help_text=_("Once the experiment is concluded, every visitor gets this variant."),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("experiment")
        verbose_name_plural = _("experiments")
        ordering = ["-created_at", "-pk"]
        permissions = [
            ("start_experiment", _("Can start and resume experiments")),
            ("stop_experiment", _("Can pause and stop experiments")),
            ("conclude_experiment", _("Can declare an experiment's winner")),
        ]

    def __str__(self) -> str:
        return self.name or self.key

    def save(self, *args, **kwargs) -> None:
        # The salt is fixed once: renaming the key later must not reshuffle the units.
        if not self.salt:
            self.salt = self.key
        super().save(*args, **kwargs)

    def clean(self) -> None:
        if not isinstance(self.guardrail_metrics, list) or not set(self.guardrail_metrics) <= set(self.Metric.values):
            raise ValidationError(
                {"guardrail_metrics": gettext("A list of metrics among: %s.") % ", ".join(self.Metric.values)}
            )
        problems = targeting_errors(self.targeting)
        if problems:
            raise ValidationError({"targeting": problems})

    @property
    def layer_salt(self) -> str:
        return f"layer:{self.layer}"

    def spec(self, variants: Iterable[Variant], layer: LayerSlot | None = None) -> ExperimentSpec:
        """The pure description ``assignment.assign`` hashes units with."""
        return ExperimentSpec(
            key=self.key,
            salt=self.salt or self.key,
            traffic_share=self.traffic_share,
            variants=tuple(VariantSpec(variant.key, variant.weight) for variant in variants),
            layer=layer,
        )


def _string_list(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def targeting_errors(targeting: object) -> list[str]:
    """What is wrong with a targeting object, one message each; empty when it is valid.

    ``{"signed_in": bool, "returning": bool, "device": ["mobile" | "desktop", ...],
    "country": ["GB", ...], "segments": [names of PROMOTIONS["SEGMENTS"], ...]}``.
    """
    if not isinstance(targeting, dict):
        return [gettext('Targeting must be a JSON object such as {"signed_in": true, "device": ["mobile"]}.')]
    errors = []
    unknown = sorted(set(targeting) - set(TARGETING_KEYS))
    if unknown:
        message = gettext("Unknown targeting key(s): %(unknown)s. Known keys: %(known)s.")
        errors.append(message % {"unknown": ", ".join(unknown), "known": ", ".join(TARGETING_KEYS)})
    for key in ("signed_in", "returning"):
        if key in targeting and not isinstance(targeting[key], bool):
            errors.append(gettext('"%s" must be true or false.') % key)
    devices = targeting.get("device", [])
    if not _string_list(devices) or not set(devices) <= set(DEVICE_CLASSES):
        errors.append(gettext('"device" must be a list of device classes among: %s.') % ", ".join(DEVICE_CLASSES))
    countries = targeting.get("country", [])
    if not _string_list(countries) or not all(COUNTRY_CODE.fullmatch(code) for code in countries):
        errors.append(gettext('"country" must be a list of two-letter ISO country codes, such as ["GB", "FR"].'))
    names = targeting.get("segments", [])
    if not _string_list(names):
        errors.append(gettext('"segments" must be a list of segment names.'))
    elif unknown_segments := sorted(set(names) - set(app_settings.SEGMENTS)):
        message = gettext('Unknown segment(s): %(unknown)s. PROMOTIONS["SEGMENTS"] defines: %(known)s.')
        known = ", ".join(sorted(app_settings.SEGMENTS)) or gettext("none")
        errors.append(message % {"unknown": ", ".join(unknown_segments), "known": known})
    return errors


def validate_variants(variants: Iterable[tuple[Decimal, bool]], scale: int = 1) -> None:
    """Raise ValidationError unless the (weight, is_control) pairs sum to ``scale`` with one control."""
    variants = list(variants)
    errors = []
    total = math.fsum(float(weight) for weight, _is_control in variants)
    if abs(total - scale) > WEIGHT_TOLERANCE * scale:
        message = gettext("Variant weights must sum to %(scale)s, not %(total)s.")
        errors.append(message % {"scale": scale, "total": f"{total:g}"})
    controls = sum(1 for _weight, is_control in variants if is_control)
    if controls != 1:
        errors.append(gettext("Exactly one variant must be the control (there are %d).") % controls)
    if errors:
        raise ValidationError(errors)


class Variant(models.Model):
    experiment = models.ForeignKey(Experiment, models.CASCADE, related_name="variants", verbose_name=_("experiment"))
    key = models.SlugField(_("key"), max_length=64)
    name = models.CharField(_("name"), max_length=200, blank=True)
    weight = models.DecimalField(
        _("weight"), max_digits=5, decimal_places=4, validators=SHARE_VALIDATORS, help_text=_("Share from 0 to 1.")
    )
    is_control = models.BooleanField(_("control"), default=False)
    config = models.JSONField(_("configuration"), default=dict, blank=True)

    class Meta:
        verbose_name = _("variant")
        verbose_name_plural = _("variants")
        ordering = ["pk"]
        constraints = [models.UniqueConstraint(fields=["experiment", "key"], name="promo_variant_key")]

    def __str__(self) -> str:
        return self.name or self.key


class Assignment(models.Model):
    """A unit's variant, recorded at its first exposure.

    ``unit_id`` is ``user:<id>`` or ``visitor:<id>``. ``superseded`` marks a visitor's row left
    behind at login when the user already had a variant: kept for the record, never counted.
    """

    experiment = models.ForeignKey(Experiment, models.CASCADE, related_name="assignments", verbose_name=_("experiment"))
    unit_id = models.CharField(_("unit"), max_length=80)
    variant = models.ForeignKey(Variant, models.CASCADE, related_name="assignments", verbose_name=_("variant"))
    first_exposed_at = models.DateTimeField(_("first exposed"))
    forced = models.BooleanField(_("forced"), default=False, help_text=_("Set by staff: never counted."))
    superseded = models.BooleanField(_("superseded at login"), default=False)

    class Meta:
        verbose_name = _("assignment")
        verbose_name_plural = _("assignments")
        constraints = [models.UniqueConstraint(fields=["experiment", "unit_id"], name="promo_assignment_unit")]
        indexes = [models.Index(fields=["unit_id"], name="promo_assignment_unit_id")]

    def __str__(self) -> str:
        return f"{self.unit_id} → {self.variant_id}"
