"""Stored uplift reports (``promotions_uplift --save NAME``); with ``app_data``, this package's Django glue.

A report keeps the command's JSON figures as they were printed, plus the Qini and uplift curves of
the reported model per treatment on held-out rows, so the admin can show and draw a run later.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _


class UpliftReport(models.Model):
    name = models.CharField(_("name"), max_length=200)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    outcome = models.TextField(_("outcome"))  # a CSV header: no length to rely on
    #: The treatments compared with the control, comma-separated, in the report's order.
    treatment = models.TextField(_("treatment"))
    #: The command's JSON report: split, features and per treatment every model's figures.
    figures = models.JSONField(_("figures"), default=dict)
    #: Per treatment: {"model", "seed", "test", "qini": {"x", "y"}, "uplift": {"x", "y"}}, thinned.
    curves = models.JSONField(_("curves"), default=dict)

    class Meta:
        verbose_name = _("uplift report")
        verbose_name_plural = _("uplift reports")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return self.name

    @classmethod
    def from_run(cls, name: str, report: dict[str, Any], curves: dict[str, Any]) -> UpliftReport:
        """A report (not yet saved) from ``evaluate_with_curves``'s two results."""
        return cls(
            name=name,
            outcome=report["outcome"],
            treatment=", ".join(report["treatments"]),
            figures=report,
            curves=curves,
        )
