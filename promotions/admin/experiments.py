"""Experiments in the admin: list with live figures, variants inline, start/pause/stop, results page.

Weights are typed as percentages (they are stored as shares); the variants of an experiment must
sum to 100 % with exactly one control. Starting needs the permission ``start_experiment``,
pausing and stopping ``stop_experiment``, declaring a winner (from the results page: the winner then
goes to all traffic) ``conclude_experiment``.
"""

from __future__ import annotations

import csv
import math
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from ..conf import app_settings
from ..experiments.models import Experiment, Variant, validate_variants
from ..experiments.results import (
    ExperimentResults,
    LiftPoint,
    VariantResult,
    cumulative_lift,
    experiment_results,
    guardrail_results,
    plan,
)
from ..experiments.stats.factorial import FactorialDesign, factorial_design, parse_factors
from .model_promotions import promote_view, winner_context

HUNDRED = Decimal(100)
# The change form's field for a multivariate design; when filled, it replaces the variants.
FACTORS_FIELD = "factors"
# Weight changes below this (a share) are float noise, not rounding worth telling.
ROUNDING_NOTICE = 1e-9
# The rate chart: a row per variant, its label, then the bar scaled to the widest interval.
CRITICAL_95 = 1.959963984540054
CHART_ROW_HEIGHT = 24
CHART_LABEL_WIDTH = 120
CHART_BAR_WIDTH = 300
# The cumulative lift chart: plot area, margins for the axis labels and the legend, and the lift
# range shown (early intervals can be very wide; they are clipped to it, not rescaled for).
LIFT_PLOT_WIDTH = 480
LIFT_PLOT_HEIGHT = 200
LIFT_MARGIN_LEFT = 60
LIFT_MARGIN_TOP = 10
LIFT_MARGIN_BOTTOM = 30
LIFT_LEGEND_WIDTH = 140
LIFT_CLIP = (-1.0, 3.0)
LIFT_LABEL_GAP = 16
# Colour-blind-safe (Okabe-Ito) colours, one per treatment variant, repeating.
LIFT_COLOURS = ("#0072b2", "#e69f00", "#009e73", "#cc79a7", "#d55e00", "#56b4e9")

# The lift interval chart: a row per compared variant, its label, then the axis of relative lift.
INTERVAL_ROW_HEIGHT = 28
INTERVAL_LABEL_WIDTH = 120
INTERVAL_PLOT_WIDTH = 360
INTERVAL_AXIS_HEIGHT = 24

RESULTS_TEMPLATE = "admin/promotions/experiment/results.html"
#: Columns of the results CSV, one row per metric and variant.
CSV_COLUMNS = (
    "metric",
    "variant",
    "control",
    "weight",
    "units",
    "conversions",
    "rate",
    "revenue_per_visitor",
    "abs_lift",
    "rel_lift",
    "rel_ci_low",
    "rel_ci_high",
    "p_value_adjusted",
    "chance_to_beat_control",
)


class VariantForm(forms.ModelForm):
    """The weight as a percentage, stored as a share."""

    percent = forms.DecimalField(
        label=gettext_lazy("weight (%)"), min_value=0, max_value=100, max_digits=6, decimal_places=2
    )

    class Meta:
        model = Variant
        fields = ("key", "name", "percent", "is_control", "config")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.weight is not None:
            self.initial.setdefault("percent", (self.instance.weight * HUNDRED).quantize(Decimal("0.01")))

    def save(self, commit: bool = True) -> Variant:
        self.instance.weight = self.cleaned_data["percent"] / HUNDRED
        return super().save(commit)


def factors_posted(data: Any) -> bool:
    """Whether the change form was sent with a factorial design (which replaces the variants)."""
    return bool(data and str(data.get(FACTORS_FIELD, "")).strip())


class VariantFormSet(forms.BaseInlineFormSet):
    def clean(self) -> None:
        super().clean()
        if any(self.errors) or factors_posted(self.data):
            return  # each form says what is wrong with it first; generated variants replace these
        kept = [form.cleaned_data for form in self.forms if form.cleaned_data and not form.cleaned_data.get("DELETE")]
        try:
            validate_variants(((row["percent"], row.get("is_control", False)) for row in kept), scale=100)
        except ValidationError as error:
            raise ValidationError(
                [
                    _("Variant weights must sum to 100%.") if "sum to" in message else message
                    for message in error.messages
                ]
            ) from None


class VariantInline(admin.TabularInline):
    model = Variant
    form = VariantForm
    formset = VariantFormSet
    extra = 0
    min_num = 2

    def get_min_num(self, request: HttpRequest, obj: Experiment | None = None, **kwargs: Any) -> int:
        # A factorial design generates the variants: the rows below may then be left blank.
        return 0 if request.method == "POST" and factors_posted(request.POST) else self.min_num


class ExperimentForm(forms.ModelForm):
    """The experiment, plus an optional multivariate design that generates its variants."""

    factors = forms.CharField(
        label=gettext_lazy("factorial design"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60, "placeholder": "model: item_knn=50, hybrid=50"}),
        help_text=gettext_lazy(
            "Optional: one factor per line, its levels with weights in percent that need not be whole numbers, "
            "e.g. <code>template: cards=33.3, list=66.7</code> (no weights: an equal split). Saving generates every "
            "combination as a variant (weight: the product of its levels' weights; configuration: each factor's "
            "level; control: every factor's first level) and replaces the variants below. Drafts only."
        ),
    )

    class Meta:
        model = Experiment
        fields = (
            "key",
            "name",
            "hypothesis",
            "traffic_share",
            "layer",
            "salt",
            "primary_metric",
            "guardrail_metrics",
            "analysis_method",
            "pause_on_guardrail_harm",
            "targeting",
        )
        help_texts = {
            "targeting": gettext_lazy(
                'For example {"returning": false, "device": ["mobile"], "country": ["GB", "IE"], "segments": '
                '["vip"]}. Keys: signed_in and returning (true or false), device (mobile, desktop), country (ISO '
                "codes from the COUNTRY_HEADER setting), segments (names of the SEGMENTS setting). A visitor must "
                "fit every key, and one entry of a list. Empty targets everyone."
            )
        }

    def clean_factors(self) -> FactorialDesign | None:
        text = self.cleaned_data["factors"]
        if not text.strip():
            return None
        experiment = self.instance
        if experiment.pk is not None and (
            experiment.status != Experiment.Status.DRAFT or experiment.assignments.exists()
        ):
            raise ValidationError(_("Variants can be generated for a draft experiment nobody has seen, only."))
        try:
            return factorial_design(parse_factors(text))
        except ValueError as error:
            raise ValidationError(str(error)) from None


def _results(obj: Experiment) -> ExperimentResults:
    # Computed once per row and request: the list shows several columns from the same results.
    if not hasattr(obj, "_promotions_results"):
        obj._promotions_results = experiment_results(obj)
    return obj._promotions_results


def _percent(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{100 * float(value):+.{digits}f}%"


@admin.register(Experiment)
class ExperimentAdmin(admin.ModelAdmin):
    list_display = (
        "key",
        "name",
        "status",
        "traffic",
        "days_running",
        "visitors_per_variant",
        "primary_lift",
        "srm_flag",
        "results_link",
    )
    list_filter = ("status", "layer")
    search_fields = ("key", "name", "hypothesis")
    readonly_fields = ("status", "started_at", "ended_at", "winner", "created_at", "results_link")
    form = ExperimentForm
    inlines = (VariantInline,)
    actions = ("start_experiments", "pause_experiments", "stop_experiments")

    def has_start_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("promotions.start_experiment")

    def has_stop_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("promotions.stop_experiment")

    def has_conclude_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("promotions.conclude_experiment")

    @admin.display(description=gettext_lazy("traffic"))
    def traffic(self, obj: Experiment) -> str:
        return f"{obj.traffic_share * HUNDRED:.0f}%"

    @admin.display(description=gettext_lazy("days running"))
    def days_running(self, obj: Experiment) -> str:
        if obj.started_at is None:
            return "-"
        return str(((obj.ended_at or timezone.now()) - obj.started_at).days)

    @admin.display(description=gettext_lazy("visitors per variant"))
    def visitors_per_variant(self, obj: Experiment) -> str:
        return " / ".join(f"{result.variant.key}: {result.units}" for result in _results(obj).variants)

    @admin.display(description=gettext_lazy("lift (primary metric)"))
    def primary_lift(self, obj: Experiment) -> str:
        compared = [result for result in _results(obj).variants if result.comparison is not None]
        return (
            " / ".join(
                f"{result.variant.key}: {_percent(result.comparison.rel_lift)}{' *' if result.significant else ''}"
                for result in compared
            )
            or "-"
        )

    @admin.display(boolean=True, description=gettext_lazy("SRM"))
    def srm_flag(self, obj: Experiment) -> bool | None:
        srm = _results(obj).srm
        return None if srm is None else not bool(srm.flagged)

    @admin.display(description=gettext_lazy("results"))
    def results_link(self, obj: Experiment) -> str:
        if obj.pk is None:
            return "-"
        return format_html(
            '<a href="{}">{}</a>', reverse("admin:promotions_experiment_results", args=[obj.pk]), _("results")
        )

    def _set_status(self, request: HttpRequest, queryset: QuerySet, status: str, allowed: set[str]) -> None:
        changed = 0
        for experiment in queryset:
            if experiment.status not in allowed:
                continue
            experiment.status = status
            now = timezone.now()
            if status == Experiment.Status.RUNNING and experiment.started_at is None:
                experiment.started_at = now
            if status == Experiment.Status.STOPPED:
                experiment.ended_at = now
            experiment.save(update_fields=["status", "started_at", "ended_at"])
            changed += 1
        self.message_user(request, _("%(count)d experiment(s) changed.") % {"count": changed}, messages.SUCCESS)

    @admin.action(permissions=["start"], description=gettext_lazy("Start or resume the selected experiments"))
    def start_experiments(self, request: HttpRequest, queryset: QuerySet) -> None:
        valid = []
        for experiment in queryset:
            try:
                validate_variants((variant.weight, variant.is_control) for variant in experiment.variants.all())
            except ValidationError as error:
                self.message_user(request, f"{experiment.key}: {' '.join(error.messages)}", messages.ERROR)
            else:
                valid.append(experiment.pk)
        allowed = {Experiment.Status.DRAFT, Experiment.Status.PAUSED}
        self._set_status(request, queryset.filter(pk__in=valid), Experiment.Status.RUNNING, allowed)

    @admin.action(permissions=["stop"], description=gettext_lazy("Pause the selected experiments"))
    def pause_experiments(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._set_status(request, queryset, Experiment.Status.PAUSED, {Experiment.Status.RUNNING})

    @admin.action(permissions=["stop"], description=gettext_lazy("Stop the selected experiments"))
    def stop_experiments(self, request: HttpRequest, queryset: QuerySet) -> None:
        allowed = {Experiment.Status.RUNNING, Experiment.Status.PAUSED}
        self._set_status(request, queryset, Experiment.Status.STOPPED, allowed)

    def save_related(self, request: HttpRequest, form: forms.ModelForm, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        design = form.cleaned_data.get(FACTORS_FIELD)
        if design is None:
            return
        experiment = form.instance
        # Checked by the form: a draft with no assignment, so nothing recorded is deleted here.
        experiment.variants.all().delete()
        Variant.objects.bulk_create(
            Variant(
                experiment=experiment,
                key=variant.key,
                name=variant.name,
                weight=variant.weight,
                is_control=variant.is_control,
                config=variant.levels,
            )
            for variant in design.variants
        )
        message = _("%(count)d variants generated from the factorial design.") % {"count": len(design.variants)}
        if design.rounding > ROUNDING_NOTICE:
            message += " " + _(
                "Weights are stored to 0.01%%: some were rounded, by at most %(change).4f percentage points."
            ) % {"change": 100 * design.rounding}
        self.message_user(request, message, messages.SUCCESS)

    def get_urls(self) -> list:
        results = self.admin_site.admin_view(self.results_view)
        declare = self.admin_site.admin_view(require_POST(self.declare_winner_view))
        return [
            path("<int:pk>/results/", results, name="promotions_experiment_results"),
            path(
                "<int:pk>/results.csv",
                self.admin_site.admin_view(self.results_csv_view),
                name="promotions_experiment_results_csv",
            ),
            path("<int:pk>/declare/<int:variant_pk>/", declare, name="promotions_experiment_declare"),
            path(
                "<int:pk>/promote-model/",
                self.admin_site.admin_view(require_POST(promote_view)),
                name="promotions_experiment_promote_model",
            ),
            *super().get_urls(),
        ]

    def declare_winner_view(self, request: HttpRequest, pk: int, variant_pk: int) -> HttpResponse:
        """Conclude the experiment with this variant as the winner: every visitor gets it from now on."""
        if not self.has_conclude_permission(request):
            raise PermissionDenied
        variant = get_object_or_404(Variant, pk=variant_pk, experiment_id=pk)
        experiment = variant.experiment
        experiment.status, experiment.winner = Experiment.Status.CONCLUDED, variant
        experiment.ended_at = experiment.ended_at or timezone.now()
        experiment.save(update_fields=["status", "winner", "ended_at"])
        message = _("%(variant)s won %(experiment)s: every visitor now gets it.")
        self.message_user(request, message % {"variant": variant, "experiment": experiment}, messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:promotions_experiment_results", args=[pk]))

    def results_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        experiment = get_object_or_404(Experiment, pk=pk)
        if not self.has_view_permission(request, experiment):
            raise PermissionDenied
        results = _results(experiment)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Results of %(experiment)s") % {"experiment": experiment},
            "opts": self.opts,  # the breadcrumbs: Home > app > Experiments > this experiment > Results
            "experiment": experiment,
            "results": results,
            "srm_p": f"{float(results.srm.p_value):.2g}" if results.srm is not None else "",
            "rows": [_row(result) for result in results.variants],
            "chart": rate_chart(results),
            "interval_chart": interval_chart(results),
            "lift_chart": lift_chart(cumulative_lift(experiment)),
            "guardrails": [
                {"title": Experiment.Metric(guardrail.metric).label, "rows": [_row(row) for row in guardrail.variants]}
                for guardrail in guardrail_results(experiment)
            ],
            "can_conclude": self.has_conclude_permission(request),
            "plan": plan(results),
            "mde": f"{app_settings.EXPERIMENT_PLANNER_MDE:.0%}",
            **winner_context(request, experiment, results),
        }
        return TemplateResponse(request, RESULTS_TEMPLATE, context)

    def results_csv_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        experiment = get_object_or_404(Experiment, pk=pk)
        if not self.has_view_permission(request, experiment):
            raise PermissionDenied
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{experiment.key}-results.csv"'
        writer = csv.writer(response)
        writer.writerow(CSV_COLUMNS)
        for results in (experiment_results(experiment), *guardrail_results(experiment)):
            writer.writerows(_csv_row(results.metric, result) for result in results.variants)
        return response


def rate_chart(results: ExperimentResults) -> str:
    """Each variant's rate with its 95% interval, as inline SVG (no script, no network)."""
    arms = [
        (result, rate, CRITICAL_95 * math.sqrt(rate * (1 - rate) / result.units))
        for result in results.variants
        if (rate := result.rate) is not None
    ]
    if not arms:
        return ""
    scale = CHART_BAR_WIDTH / max(max(rate + half for _result, rate, half in arms), 1e-9)
    bars = [
        {
            "top": index * CHART_ROW_HEIGHT,
            "key": result.variant.key,
            "x": CHART_LABEL_WIDTH,
            "width": f"{rate * scale:.1f}",
            "rate": f"{rate:.6f}",
            "low": f"{CHART_LABEL_WIDTH + max(rate - half, 0) * scale:.1f}",
            "high": f"{CHART_LABEL_WIDTH + (rate + half) * scale:.1f}",
        }
        for index, (result, rate, half) in enumerate(arms)
    ]
    context = {
        "title": _("Rate per variant with 95% interval"),
        "width": CHART_LABEL_WIDTH + CHART_BAR_WIDTH + 10,
        "height": len(arms) * CHART_ROW_HEIGHT,
        "bars": bars,
    }
    return render_to_string("admin/promotions/experiment/rate_chart.html", context)


def interval_chart(results: ExperimentResults) -> str:
    """Each variant's relative lift over the control with its 95% interval, on one axis, as inline SVG.

    The axis spans the intervals and 0% (clipped to ``LIFT_CLIP``: an end beyond it is drawn at the
    edge and marked open); the log-ratio intervals are asymmetric and never reach below -100%.
    """
    compared = [
        (result, [float(getattr(result.comparison, name)) for name in ("rel_lift", "rel_ci_low", "rel_ci_high")])
        for result in results.variants
        if result.comparison is not None
    ]
    compared = [(result, figures) for result, figures in compared if all(map(math.isfinite, figures))]
    if not compared:
        return ""
    low = max(min(0.0, *(figures[1] for _result, figures in compared)), LIFT_CLIP[0])
    high = min(max(0.0, *(figures[2] for _result, figures in compared)), LIFT_CLIP[1])
    high = high if high > low else low + 0.01
    margin = (high - low) * 0.05
    low, high = max(low - margin, -1.0), high + margin

    def x(value: float) -> float:
        clipped = min(max(value, low), high)
        return INTERVAL_LABEL_WIDTH + INTERVAL_PLOT_WIDTH * (clipped - low) / (high - low)

    rows = []
    for index, (result, (lift, ci_low, ci_high)) in enumerate(compared):
        rows.append(
            {
                "top": index * INTERVAL_ROW_HEIGHT,
                "key": result.variant.key,
                "colour": LIFT_COLOURS[index % len(LIFT_COLOURS)],
                "x": f"{x(lift):.1f}",
                "low": f"{x(ci_low):.1f}",
                "high": f"{x(ci_high):.1f}",
                "open_low": ci_low < low,
                "open_high": ci_high > high,
                "lift": f"{lift:.6f}",
                "ci_low": f"{ci_low:.6f}",
                "ci_high": f"{ci_high:.6f}",
                "text": f"{_percent(lift, 2)} [{_percent(ci_low, 2)}, {_percent(ci_high, 2)}]",
                "significant": result.significant,
            }
        )
    plot_bottom = len(rows) * INTERVAL_ROW_HEIGHT
    context = {
        "title": _("Relative lift over the control with 95% interval, per variant"),
        "width": INTERVAL_LABEL_WIDTH + INTERVAL_PLOT_WIDTH + 20,
        "height": plot_bottom + INTERVAL_AXIS_HEIGHT,
        "rows": rows,
        "zero": f"{x(0.0):.1f}",
        # 0% is labelled unless that would overwrite the axis' end labels (the dashed line stays).
        "zero_label": INTERVAL_LABEL_WIDTH + 48 <= x(0.0) <= INTERVAL_LABEL_WIDTH + INTERVAL_PLOT_WIDTH - 48,
        "plot_bottom": plot_bottom,
        "left": INTERVAL_LABEL_WIDTH,
        "right": INTERVAL_LABEL_WIDTH + INTERVAL_PLOT_WIDTH,
        "label_y": plot_bottom + 16,
        "low_label": _percent(low, 0),
        "high_label": _percent(high, 0),
    }
    return render_to_string("admin/promotions/experiment/interval_chart.html", context)


def lift_chart(series: dict[str, list[LiftPoint]]) -> str:
    """Each variant's cumulative lift per day with its 95% interval band, as inline SVG."""
    points = [point for variant_points in series.values() for point in variant_points]
    if not points:
        return ""
    first, last = min(point.day for point in points), max(point.day for point in points)
    span = max((last - first).days, 1)
    low = max(min(0.0, *(point.rel_ci_low for point in points)), LIFT_CLIP[0])
    high = min(max(0.0, *(point.rel_ci_high for point in points)), LIFT_CLIP[1])
    high = high if high > low else low + 0.01

    def x(point: LiftPoint) -> str:
        return f"{LIFT_MARGIN_LEFT + LIFT_PLOT_WIDTH * (point.day - first).days / span:.1f}"

    def y(value: float) -> str:
        clipped = min(max(value, low), high)
        return f"{LIFT_MARGIN_TOP + LIFT_PLOT_HEIGHT * (high - clipped) / (high - low):.1f}"

    variants = []
    for index, (key, variant_points) in enumerate(series.items()):
        if not variant_points:
            continue
        upper = [f"{x(point)},{y(point.rel_ci_high)}" for point in variant_points]
        lower = [f"{x(point)},{y(point.rel_ci_low)}" for point in reversed(variant_points)]
        variants.append(
            {
                "key": key,
                "colour": LIFT_COLOURS[index % len(LIFT_COLOURS)],
                "band": " L".join(upper + lower),
                "line": " ".join(f"{x(point)},{y(point.rel_lift)}" for point in variant_points),
                "legend_y": LIFT_MARGIN_TOP + 14 * (index + 1),
                "points": [
                    {
                        "x": x(point),
                        "y": y(point.rel_lift),
                        "day": point.day.isoformat(),
                        "lift": f"{point.rel_lift:.6f}",
                        "ci_low": f"{point.rel_ci_low:.6f}",
                        "ci_high": f"{point.rel_ci_high:.6f}",
                        "lift_text": _percent(point.rel_lift, 2),
                        "low_text": _percent(point.rel_ci_low, 2),
                        "high_text": _percent(point.rel_ci_high, 2),
                    }
                    for point in variant_points
                ],
            }
        )
    right = LIFT_MARGIN_LEFT + LIFT_PLOT_WIDTH
    bottom = LIFT_MARGIN_TOP + LIFT_PLOT_HEIGHT
    zero = y(0.0)
    context = {
        "title": _("Cumulative lift per variant with 95% interval, by day"),
        "width": right + LIFT_LEGEND_WIDTH,
        "height": bottom + LIFT_MARGIN_BOTTOM,
        "left": LIFT_MARGIN_LEFT,
        "right": right,
        "top": LIFT_MARGIN_TOP,
        "bottom": bottom,
        "zero": zero,
        "label_x": LIFT_MARGIN_LEFT - 6,
        "top_label": LIFT_MARGIN_TOP + 10,
        "zero_label": f"{float(zero) + 4:.1f}",
        # An end of the axis close to 0% is left unlabelled rather than printed over it.
        "high": _percent(high, 0) if float(zero) - LIFT_MARGIN_TOP > LIFT_LABEL_GAP else "",
        "low": _percent(low, 0) if bottom - float(zero) > LIFT_LABEL_GAP else "",
        "bottom_label": bottom + 4,
        "day_label": bottom + 20,
        "first": first.isoformat(),
        "last": last.isoformat() if last != first else "",
        "legend_x": LIFT_MARGIN_LEFT + LIFT_PLOT_WIDTH + 10,
        "variants": variants,
    }
    return render_to_string("admin/promotions/experiment/lift_chart.html", context)


def _row(result: VariantResult) -> dict[str, Any]:
    comparison = result.comparison
    rate = None if result.rate is None else f"{100 * result.rate:.2f}%"
    revenue = f"{result.revenue.sum / result.units:.2f}" if result.units else "-"
    row = {
        "name": result.variant,
        "pk": result.variant.pk,
        "winner": result.variant.pk == result.variant.experiment.winner_id,
        "control": result.variant.is_control,
        "weight": f"{result.variant.weight * HUNDRED:.1f}%",
        "units": result.units,
        "conversions": result.conversions,
        "rate": rate or "-",
        "revenue": revenue,
        "lift": "-",
        "interval": "-",
        "p_value": "-",
        "chance": "-",
    }
    if comparison is not None:
        row["lift"] = _percent(comparison.rel_lift, 2) + (" *" if result.significant else "")
        row["interval"] = f"[{_percent(comparison.rel_ci_low, 2)}, {_percent(comparison.rel_ci_high, 2)}]"
        if result.p_value_adjusted is not None:
            row["p_value"] = f"{result.p_value_adjusted:.4f}"
        chance = getattr(comparison, "chance_to_beat_control", None)
        if chance is not None:
            row["chance"] = f"{100 * chance:.1f}%"
    return row


def _csv_row(metric: str, result: VariantResult) -> list[Any]:
    comparison = result.comparison
    figures = [None] * 6
    if comparison is not None:
        chance = getattr(comparison, "chance_to_beat_control", None)
        figures = [
            *(float(getattr(comparison, name)) for name in ("abs_lift", "rel_lift", "rel_ci_low", "rel_ci_high")),
            result.p_value_adjusted,
            chance,
        ]
    revenue = result.revenue.sum / result.units if result.units else None
    variant = result.variant
    return [
        metric,
        variant.key,
        variant.is_control,
        variant.weight,
        result.units,
        result.conversions,
        result.rate,
        revenue,
        *figures,
    ]
