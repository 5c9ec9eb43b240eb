"""An experiment's results: per-variant counts from the database, then the statistics engine.

A unit counts once, from its first exposure; forced (QA) rows and rows superseded at login never
count. A unit's events are those under its visitor id (``visitor:<id>``) or, for a user
(``user:<id>``), those recorded for the user or under any visitor id linked to them. Only events
at or after the first exposure count. Five flat queries (the units; the visitor ids linked to
their users; the events under the units' visitor ids, of their users, under those linked ids)
feed a per-unit summary that is counted in Python, for the results as they stand and for each
day of the cumulative lift: a correlated subquery per unit would scan the events again for every
unit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta

from django.db.models import (
    BigIntegerField,
    Case,
    CharField,
    QuerySet,
    When,
)
from django.db.models.functions import Cast, Substr
from django.utils import timezone

from ..conf import app_settings
from ..tracking.models import Event, EventType, Visitor
from .models import Assignment, Experiment, Variant
from .stats import inference as stats

VISITOR_PREFIX = "visitor:"
USER_PREFIX = "user:"
#: The event whose presence after exposure is the success of each proportion metric.
METRIC_EVENTS = {
    Experiment.Metric.CONVERSION: EventType.PURCHASE,
    Experiment.Metric.REVENUE: EventType.PURCHASE,
    Experiment.Metric.ADD_TO_CART: EventType.ADD_TO_CART,
    Experiment.Metric.PROMOTION_CLICK: EventType.PROMOTION_CLICK,
}
# Welch needs a variance in both arms.
MIN_UNITS_TO_COMPARE = 2
#: The cumulative lift chart's most points per variant: longer experiments are sampled evenly
#: (first and last day kept), so that the chart stays legible.
MAX_LIFT_POINTS = 60


@dataclass(frozen=True)
class VariantResult:
    variant: Variant
    units: int
    conversions: int
    revenue: stats.MeanStats
    #: The comparison of the metric with the control; None for the control and thin arms.
    comparison: stats.Comparison | stats.BayesianComparison | None = None
    p_value_adjusted: float | None = None

    @property
    def proportion(self) -> stats.ProportionStats:
        return stats.ProportionStats(self.units, self.conversions)

    @property
    def rate(self) -> float | None:
        return self.conversions / self.units if self.units else None

    @property
    def significant(self) -> bool:
        """Whether the primary metric differs from the control (Holm-adjusted p < 5 %)."""
        if isinstance(self.comparison, stats.BayesianComparison):
            return not self.comparison.ci_low <= 0 <= self.comparison.ci_high
        return self.p_value_adjusted is not None and self.p_value_adjusted < stats.DEFAULT_ALPHA


@dataclass(frozen=True)
class ExperimentResults:
    experiment: Experiment
    metric: str
    variants: list[VariantResult]
    srm: stats.SampleRatioMismatch | None

    @property
    def control(self) -> VariantResult | None:
        return next((result for result in self.variants if result.variant.is_control), None)


def counted_assignments(experiment: Experiment) -> QuerySet:
    """The assignments that count, with the unit's visitor id or user id split out of ``unit_id``."""
    return Assignment.objects.filter(experiment=experiment, forced=False, superseded=False).annotate(
        unit_visitor=Case(
            When(unit_id__startswith=VISITOR_PREFIX, then=Substr("unit_id", len(VISITOR_PREFIX) + 1)),
            output_field=CharField(),
        ),
        # A CASE so that no database ever casts a visitor id to a number.
        unit_user=Case(
            When(
                unit_id__startswith=USER_PREFIX,
                then=Cast(Substr("unit_id", len(USER_PREFIX) + 1), BigIntegerField()),
            ),
            output_field=BigIntegerField(),
        ),
    )


@dataclass(frozen=True)
class UnitOutcome:
    """What one counted unit did from its first exposure on."""

    variant_id: int
    exposed_at: datetime
    #: The first event of the metric's type at or after the exposure; None if none.
    converted_at: datetime | None
    #: (time, amount) of each purchase at or after the exposure.
    purchases: tuple[tuple[datetime, float], ...]


def _unit_events(assignments: QuerySet, event_types: set[str]) -> tuple[dict, dict]:
    """The events of these types under the units' visitor ids, and those of their users.

    Three flat queries, each a semi-join an index answers once for all units (a correlated
    subquery per unit scans the events again for every unit): events under a visitor unit's id,
    events recorded for a user unit's user, and events under a visitor id linked to that user.
    Returns {visitor id: events} and {user id: events}, each event a tuple
    ``(pk, event_type, occurred_at, amount)``; an event under a linked id and its user appears once.
    """
    columns = ("pk", "event_type", "occurred_at", "quantity", "unit_price")
    events = Event.objects.filter(event_type__in=event_types).order_by()
    visitor_ids = assignments.filter(unit_visitor__isnull=False).values("unit_visitor")
    user_ids = assignments.filter(unit_user__isnull=False).values("unit_user")
    linked = dict(Visitor.objects.filter(user_id__in=user_ids).values_list("key", "user_id"))

    def rows(queryset: QuerySet) -> list[tuple]:
        return [
            (pk, event_type, at, None if quantity is None or price is None else float(quantity) * float(price), key)
            for key, pk, event_type, at, quantity, price in queryset
        ]

    by_visitor: dict[str, list[tuple]] = {}
    for *event, visitor_id in rows(events.filter(visitor_id__in=visitor_ids).values_list("visitor_id", *columns)):
        by_visitor.setdefault(visitor_id, []).append(tuple(event))
    by_user: dict[int, dict[int, tuple]] = {}
    for *event, user_id in rows(events.filter(user_id__in=user_ids).values_list("user_id", *columns)):
        by_user.setdefault(user_id, {})[event[0]] = tuple(event)
    linked_events = events.filter(visitor_id__in=list(linked)).values_list("visitor_id", *columns) if linked else []
    for *event, visitor_id in rows(linked_events):
        by_user.setdefault(linked[visitor_id], {})[event[0]] = tuple(event)
    return by_visitor, {user_id: list(unit.values()) for user_id, unit in by_user.items()}


def unit_outcomes(experiment: Experiment, metric: str) -> list[UnitOutcome]:
    """Every counted unit's exposure, first conversion on ``metric`` and purchases after exposure."""
    assignments = counted_assignments(experiment)
    metric_event = METRIC_EVENTS[metric]
    by_visitor, by_user = _unit_events(assignments, {metric_event, EventType.PURCHASE})
    outcomes = []
    for visitor_id, user_id, variant_id, exposed_at in assignments.values_list(
        "unit_visitor", "unit_user", "variant_id", "first_exposed_at"
    ):
        events = by_visitor.get(visitor_id, []) if visitor_id is not None else by_user.get(user_id, [])
        after = [event for event in events if event[2] >= exposed_at]
        conversions = [at for _pk, event_type, at, _amount in after if event_type == metric_event]
        purchases = tuple(
            (at, amount)
            for _pk, event_type, at, amount in after
            if event_type == EventType.PURCHASE and amount is not None
        )
        outcomes.append(UnitOutcome(variant_id, exposed_at, min(conversions, default=None), purchases))
    return outcomes


def count_outcomes(outcomes: list[UnitOutcome], until: datetime | None = None) -> dict[int, dict[str, float]]:
    """Per variant id: units, conversions and revenue sums, counting what happened before ``until``."""
    counts: dict[int, dict[str, float]] = {}
    for outcome in outcomes:
        if until is not None and outcome.exposed_at >= until:
            continue
        row = counts.setdefault(
            outcome.variant_id, {"units": 0, "conversions": 0, "revenue_sum": 0.0, "revenue_squares": 0.0}
        )
        converted = outcome.converted_at is not None and (until is None or outcome.converted_at < until)
        revenue = math.fsum(amount for at, amount in outcome.purchases if until is None or at < until)
        row["units"] += 1
        row["conversions"] += converted
        row["revenue_sum"] += revenue
        row["revenue_squares"] += revenue * revenue
    return counts


def variant_counts(experiment: Experiment, metric: str, until: datetime | None = None) -> dict[int, dict[str, float]]:
    """Per variant id: units, conversions (units with the metric's event) and revenue sums.

    With ``until``, as they stood then: units exposed and events that happened before it.
    """
    return count_outcomes(unit_outcomes(experiment, metric), until)


def _compare(
    method: str, metric: str, control: VariantResult, treatment: VariantResult
) -> stats.Comparison | stats.BayesianComparison:
    """One metric's comparison by an analysis method."""
    revenue = metric == Experiment.Metric.REVENUE
    arms = (control.revenue, treatment.revenue) if revenue else (control.proportion, treatment.proportion)
    if method == Experiment.Method.SEQUENTIAL:
        return stats.sequential_test(*arms)
    if method == Experiment.Method.BAYESIAN:
        return stats.bayesian_means(*arms) if revenue else stats.bayesian_proportions(*arms)
    return stats.welch_t_test(*arms) if revenue else stats.two_proportion_z_test(*arms)


def _comparable(metric: str, control: VariantResult, treatment: VariantResult) -> bool:
    """Whether both arms have a variance and the control a non-zero mean (relative lifts divide by it)."""
    if min(control.units, treatment.units) < MIN_UNITS_TO_COMPARE:
        return False
    if metric == Experiment.Metric.REVENUE:
        return control.revenue.sum > 0
    return 0 < control.conversions and control.conversions + treatment.conversions < control.units + treatment.units


def experiment_results(
    experiment: Experiment,
    metric: str | None = None,
    method: str | None = None,
    counts: dict[int, dict[str, float]] | None = None,
) -> ExperimentResults:
    """Counts, comparisons of each variant with the control (Holm-adjusted) and the SRM check.

    ``metric`` defaults to the primary metric (guardrails are the same call with theirs) and
    ``method`` to the experiment's analysis method; ``counts`` (from ``count_outcomes``) replace
    the current ones, e.g. to give the results as they stood on an earlier day.
    """
    metric = metric or experiment.primary_metric
    method = method or experiment.analysis_method
    if counts is None:
        counts = variant_counts(experiment, metric)
    results = []
    for variant in experiment.variants.all():
        row = counts.get(variant.pk, {})
        units = row.get("units", 0)
        revenue = stats.MeanStats(units, row.get("revenue_sum") or 0.0, row.get("revenue_squares") or 0.0)
        results.append(VariantResult(variant, units, row.get("conversions", 0), revenue))
    control = next((result for result in results if result.variant.is_control), None)
    if control is None:
        return ExperimentResults(experiment, metric, results, _srm(results))
    compared = {
        index: _compare(method, metric, control, result)
        for index, result in enumerate(results)
        if result is not control and _comparable(metric, control, result)
    }
    frequentist = [index for index, comparison in compared.items() if isinstance(comparison, stats.Comparison)]
    adjusted = stats.holm_adjust([float(compared[index].p_value) for index in frequentist]) if frequentist else []
    p_values = dict(zip(frequentist, adjusted, strict=True))
    for index, comparison in compared.items():
        results[index] = replace(results[index], comparison=comparison, p_value_adjusted=p_values.get(index))
    return ExperimentResults(experiment, metric, results, _srm(results))


def guardrail_results(experiment: Experiment) -> list[ExperimentResults]:
    """The guardrail metrics' results, one aggregate query each (Holm within each metric)."""
    known = set(Experiment.Metric.values)
    return [experiment_results(experiment, metric) for metric in experiment.guardrail_metrics if metric in known]


def harmed_guardrails(experiment: Experiment) -> list[str]:
    """Guardrail metrics on which some variant is significantly worse than the control.

    Judged by the sequential test whatever the experiment's method: it stays valid however often
    this check runs, so a daily check does not inflate false alarms.
    """
    harmed = []
    for metric in experiment.guardrail_metrics:
        if metric not in Experiment.Metric.values:
            continue
        results = experiment_results(experiment, metric, Experiment.Method.SEQUENTIAL)
        if any(
            result.comparison is not None and result.significant and float(result.comparison.abs_lift) < 0
            for result in results.variants
        ):
            harmed.append(metric)
    return harmed


def pause_harmed_experiments() -> list[str]:
    """Pause the running experiments set to pause on guardrail harm that show it; returns their keys.

    Meant for a periodic task (daily, say).
    """
    paused = []
    running = Experiment.objects.filter(status=Experiment.Status.RUNNING, pause_on_guardrail_harm=True)
    for experiment in running.prefetch_related("variants"):
        if harmed_guardrails(experiment):
            Experiment.objects.filter(pk=experiment.pk).update(status=Experiment.Status.PAUSED)
            paused.append(experiment.key)
    return paused


def plan(results: ExperimentResults, mde: float | None = None) -> stats.Plan | None:
    """Units and days the experiment needs to detect a relative lift ``mde`` at its traffic so far.

    ``mde`` defaults to ``PROMOTIONS["EXPERIMENT_PLANNER_MDE"]``.
    The baseline is the control's rate or mean; None until the experiment has run and the control
    has a baseline to plan from.
    """
    experiment, control = results.experiment, results.control
    mde = app_settings.EXPERIMENT_PLANNER_MDE if mde is None else mde
    if experiment.started_at is None or control is None or control.units < MIN_UNITS_TO_COMPARE:
        return None
    elapsed_days = max((timezone.now() - experiment.started_at).total_seconds() / 86400, 1.0)
    daily = sum(result.units for result in results.variants) / elapsed_days
    arms = sum(1 for result in results.variants if result.variant.weight > 0)
    if results.metric == Experiment.Metric.REVENUE:
        if not control.revenue.sum or not control.revenue.variance:
            return None
        std_dev = math.sqrt(float(control.revenue.variance))
        return stats.plan_mean_test(float(control.revenue.mean), std_dev, mde, daily, arms=arms)
    if not 0 < control.conversions < control.units:
        return None
    return stats.plan_proportion_test(control.conversions / control.units, mde, daily, arms=arms)


def _srm(results: list[VariantResult]) -> stats.SampleRatioMismatch | None:
    designed = [result for result in results if result.variant.weight > 0]
    if len(designed) < 2 or not sum(result.units for result in designed):
        return None
    return stats.sample_ratio_mismatch(
        [result.units for result in designed], [float(result.variant.weight) for result in designed]
    )


@dataclass(frozen=True)
class LiftPoint:
    """A variant's relative lift over the control with its interval, from the start to the end of ``day``."""

    day: date
    rel_lift: float
    rel_ci_low: float
    rel_ci_high: float


def lift_days(experiment: Experiment, max_points: int = MAX_LIFT_POINTS) -> list[date]:
    """The local days the experiment ran, from its start to its end (or today), at most ``max_points``."""
    if experiment.started_at is None:
        return []
    first = timezone.localdate(experiment.started_at)
    last = timezone.localdate(experiment.ended_at or timezone.now())
    count = (last - first).days + 1
    if count <= max_points:
        return [first + timedelta(days=offset) for offset in range(count)]
    step = (count - 1) / (max_points - 1)
    return [first + timedelta(days=round(index * step)) for index in range(max_points)]


def cumulative_lift(experiment: Experiment, max_points: int = MAX_LIFT_POINTS) -> dict[str, list[LiftPoint]]:
    """Per non-control variant key, its cumulative primary-metric lift at the end of each day run.

    Each point is ``experiment_results`` as it stood at the day's end (local time) with the
    experiment's method: with the sequential method the intervals are its confidence sequence,
    valid however often they are looked at. Days on which a variant cannot be compared yet (no
    conversion in the control...) have no point.
    """
    series: dict[str, list[LiftPoint]] = {}
    outcomes = unit_outcomes(experiment, experiment.primary_metric)
    for day in lift_days(experiment, max_points):
        end = timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min))
        for result in experiment_results(experiment, counts=count_outcomes(outcomes, end)).variants:
            comparison = result.comparison
            if result.variant.is_control:
                continue
            points = series.setdefault(result.variant.key, [])
            if comparison is None:
                continue
            figures = (float(comparison.rel_lift), float(comparison.rel_ci_low), float(comparison.rel_ci_high))
            if all(math.isfinite(value) for value in figures):
                points.append(LiftPoint(day, *figures))
    return series
