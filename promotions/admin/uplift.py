"""Stored uplift reports in the admin: the list of runs and, per report, its figures and curves.

Reports are written by ``manage.py promotions_uplift ... --save NAME`` and are read-only here. The
change page shows every model's figures and, per treatment, the Qini and uplift curves of the
reported model on held-out rows, drawn as inline SVG on the server (no JavaScript, no network)
next to the random-targeting diagonal. Python computes the geometry, formatted without the
locale so that a decimal comma never reaches an SVG attribute.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils.html import format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ..uplift.records import UpliftReport

WIDTH = 420
HEIGHT = 260
# Room for the value labels on the left and the share-targeted labels below.
LEFT = 56
RIGHT = 10
TOP = 10
BOTTOM = 24
PLOT_WIDTH = WIDTH - LEFT - RIGHT
PLOT_HEIGHT = HEIGHT - TOP - BOTTOM


def _fmt(number: float) -> str:
    return f"{number:.2f}"


def _value(number: float) -> str:
    return f"{number:.4g}"


def curve_chart(x: list[float], y: list[float], title: str) -> dict[str, Any]:
    """The SVG geometry of a curve and of the diagonal from the origin to its end point.

    x runs from 0 to its last value across the plot; y from the smallest to the largest of the
    curve's values and 0 (a Qini curve may go below zero), bottom to top.
    """
    x_max = x[-1] or 1.0
    y_low, y_high = min(0.0, *y), max(0.0, *y)
    span = (y_high - y_low) or 1.0

    def point(px: float, py: float) -> tuple[str, str]:
        return _fmt(LEFT + PLOT_WIDTH * px / x_max), _fmt(TOP + PLOT_HEIGHT * (y_high - py) / span)

    start, end = point(0.0, 0.0), point(x[-1], y[-1])
    return {
        "title": title,
        "width": WIDTH,
        "height": HEIGHT,
        "points": " ".join(",".join(point(px, py)) for px, py in zip(x, y, strict=True)),
        "diagonal": {"x1": start[0], "y1": start[1], "x2": end[0], "y2": end[1]},
        "zero_y": start[1],
        "left": LEFT,
        "right": WIDTH - RIGHT,
        "top": TOP,
        "bottom": HEIGHT - BOTTOM,
        "axis_x": LEFT - 4,
        "label_y": HEIGHT - 6,
        "high": _value(y_high),
        "low": _value(y_low),
        "high_y": TOP + 8,
        "customers": _value(x[-1]),
    }


def _figure(value: float | None, sd: float | None = None) -> str:
    if value is None:
        return "\u2013"
    return f"{value:.4f}" if sd is None else f"{value:.4f} \u00b1 {sd:.4f}"


@admin.register(UpliftReport)
class UpliftReportAdmin(admin.ModelAdmin):
    list_display = ("name", "treatment", "outcome", "best_model", "qini", "auuc", "uplift_at_30", "created_at")
    list_filter = ("outcome",)
    search_fields = ("name", "treatment", "outcome")
    fields = ("name", "created_at", "outcome", "treatment", "split", "figures_table", "curve_charts")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # reports come from the command, which trains the models

    def has_change_permission(self, request: HttpRequest, obj: UpliftReport | None = None) -> bool:
        return False

    def _per_treatment(self, obj: UpliftReport, figure: Any) -> str:
        """One line per treatment (prefixed by its name when there are several)."""
        treatments = obj.figures.get("treatments", {})
        several = len(treatments) > 1
        return format_html_join(
            "",
            "<div>{}{}</div>",
            ((f"{name}: " if several else "", figure(result)) for name, result in treatments.items()),
        )

    @admin.display(description=gettext_lazy("best model"))
    def best_model(self, obj: UpliftReport) -> str:
        return self._per_treatment(obj, lambda result: result["model"])

    @admin.display(description=gettext_lazy("Qini"))
    def qini(self, obj: UpliftReport) -> str:
        return self._per_treatment(obj, lambda result: _figure(result["qini"]))

    @admin.display(description=gettext_lazy("AUUC"))
    def auuc(self, obj: UpliftReport) -> str:
        return self._per_treatment(obj, lambda result: _figure(result["auuc"]))

    @admin.display(description=gettext_lazy("uplift@30%"))
    def uplift_at_30(self, obj: UpliftReport) -> str:
        return self._per_treatment(obj, lambda result: _figure(result["uplift_at"].get("30")))

    @admin.display(description=gettext_lazy("split"))
    def split(self, obj: UpliftReport) -> str:
        split = obj.figures.get("split", {})
        return _("test share %(test)s, seed %(seed)s, %(repeats)s split(s)") % {
            "test": split.get("test"),
            "seed": split.get("seed"),
            "repeats": split.get("repeats"),
        }

    @admin.display(description=gettext_lazy("figures on held-out rows"))
    def figures_table(self, obj: UpliftReport) -> str:
        spread = obj.figures.get("split", {}).get("repeats", 1) > 1  # one split has no sd
        treatments = []
        for name, result in obj.figures.get("treatments", {}).items():
            keys = list(result["uplift_at"])
            rows = [
                {
                    "model": model,
                    "best": model == result["model"],
                    "chosen": result.get("chosen", {}).get(model, 0),
                    "validation_qini": _figure(figures.get("validation_qini")),
                    "qini": _figure(figures["qini"], figures["qini_sd"] if spread else None),
                    "auuc": _figure(figures["auuc"], figures["auuc_sd"] if spread else None),
                    "uplift_at": [
                        _figure(figures["uplift_at"][key], figures["uplift_at_sd"][key] if spread else None)
                        for key in keys
                    ],
                }
                for model, figures in result["models"].items()
            ]
            treatments.append({"name": name, "keys": keys, "rows": rows})
        context = {"treatments": treatments, "control": obj.figures.get("control", "")}
        return render_to_string("admin/promotions/upliftreport/figures.html", context)

    @admin.display(description=gettext_lazy("curves on held-out rows"))
    def curve_charts(self, obj: UpliftReport) -> str:
        treatments = [
            {
                "name": name,
                "model": curves["model"],
                "test": curves["test"],
                "seed": curves["seed"],
                "qini": curve_chart(curves["qini"]["x"], curves["qini"]["y"], _("Qini curve: %s") % name),
                "uplift": curve_chart(curves["uplift"]["x"], curves["uplift"]["y"], _("Uplift curve: %s") % name),
            }
            for name, curves in obj.curves.items()
        ]
        return render_to_string("admin/promotions/upliftreport/curves.html", {"treatments": treatments})
