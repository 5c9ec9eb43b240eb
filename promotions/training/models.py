"""Trained model versions: the artifact in Django's storage (shared by every web server) plus its record."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from ..recommenders import Recommender
from ..tracking.personcache import RECOMMENDATIONS

#: The per-person cache entry holding precomputed recommendations (declared in ``personcache``).
RECOMMENDATIONS_CACHE_NAME = RECOMMENDATIONS.name


class ModelVersion(models.Model):
    class Status(models.TextChoices):
        TRAINING = "training", _("training")
        READY = "ready", _("ready")
        FAILED = "failed", _("failed")
        ACTIVE = "active", _("active")
        RETIRED = "retired", _("retired")

    #: Versions with a usable artifact that may be (re)activated.
    ACTIVATABLE = (Status.READY, Status.RETIRED)

    model_name = models.CharField(_("model"), max_length=64, blank=True)
    parameters = models.JSONField(_("parameters"), default=dict, blank=True)
    #: Validation figures of the chosen model (ndcg, recall, hr, precision, map, coverage), the
    #: final fit's seconds, every candidate's figures and the re-scored active model.
    metrics = models.JSONField(_("metrics"), default=dict, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.TRAINING)
    created_at = models.DateTimeField(_("started"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    duration_seconds = models.FloatField(_("duration (seconds)"), null=True, blank=True)
    training_rows = models.PositiveIntegerField(_("training rows"), default=0)
    training_users = models.PositiveIntegerField(_("training users"), default=0)
    training_items = models.PositiveIntegerField(_("training items"), default=0)
    artifact = models.FileField(_("artifact"), upload_to="promotions/models/", blank=True)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        verbose_name = _("model version")
        verbose_name_plural = _("model versions")
        ordering = ["-created_at", "-pk"]
        # The database itself guarantees that at most one version is active.
        constraints = [
            models.UniqueConstraint(fields=["status"], condition=Q(status="active"), name="promo_one_active_model")
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.model_name or '?'} ({self.get_status_display()})"

    def load_model(self) -> Recommender:
        """The fitted model from the artifact (plain arrays, no pickle: no code runs).

        From a storage with local files the artifact is memory-mapped (its pages are read when a
        request touches them and shared by every process on the machine); from any other
        storage its bytes are read once and viewed in place.
        """
        if not self.artifact:
            raise ValueError(f"model version {self.pk} has no artifact")
        try:
            path = self.artifact.path
        except NotImplementedError:  # a remote storage: no local file to map
            path = None
        if path is not None:
            return Recommender.load(path)
        with self.artifact.open("rb") as handle:
            return Recommender.load(handle.read())


class ModelPromotion(models.Model):
    """A recommender experiment's winner made the active model: who or what did it, and how to undo it.

    One row per promotion; ``previous_version`` is what was active before, so that reverting
    reactivates it. Rows are kept after a revert (``reverted_at``): the log of every switch.
    """

    experiment = models.ForeignKey(
        "promotions.Experiment", models.CASCADE, related_name="model_promotions", verbose_name=_("experiment")
    )
    variant = models.ForeignKey(
        "promotions.Variant", models.CASCADE, related_name="model_promotions", verbose_name=_("winning variant")
    )
    version = models.ForeignKey(
        ModelVersion, models.PROTECT, related_name="promotions_to", verbose_name=_("version made active")
    )
    previous_version = models.ForeignKey(
        ModelVersion,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="promotions_from",
        verbose_name=_("version active before"),
    )
    automatic = models.BooleanField(_("automatic"), default=False)
    promoted_by = models.CharField(_("by"), max_length=150, blank=True)
    #: The decision as it stood: metric, relative lift and its interval, adjusted p-value, units.
    evidence = models.JSONField(_("evidence"), default=dict, blank=True)
    created_at = models.DateTimeField(_("made active"), auto_now_add=True)
    reverted_at = models.DateTimeField(_("reverted"), null=True, blank=True)
    reverted_by = models.CharField(_("reverted by"), max_length=150, blank=True)

    class Meta:
        verbose_name = _("model promotion")
        verbose_name_plural = _("model promotions")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.experiment} → #{self.version_id} {self.version.model_name}"
