"""The cumulative lift over time: daily points equal the engine's figures on the counts of each day's end."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from promotions.admin.experiments import lift_chart
from promotions.experiments.models import Assignment, Experiment
from promotions.experiments.results import cumulative_lift, experiment_results, lift_days
from promotions.experiments.stats import inference as stats
from promotions.tracking.models import Event
from tests.experiments.factories import make_experiment

pytestmark = pytest.mark.django_db
# Per day of the experiment: (control units, control conversions, treatment units, treatment conversions)
# exposed that day; each conversion happens the same day, two hours after the exposure.
DAYS = [(40, 4, 40, 6), (50, 3, 50, 9), (30, 5, 30, 2)]


@pytest.fixture
def running() -> Experiment:
    start = timezone.make_aware(datetime.combine(timezone.localdate() - timedelta(days=len(DAYS) - 1), time(8)))
    experiment = make_experiment(started_at=start)
    control, treatment = experiment.variants.order_by("pk")
    for offset, counts in enumerate(DAYS):
        exposed = start + timedelta(days=offset)
        for variant, units, conversions in ((control, *counts[:2]), (treatment, *counts[2:])):
            for index in range(units):
                visitor = f"{variant.key}-{offset}-{index}"
                Assignment.objects.create(
                    experiment=experiment, unit_id=f"visitor:{visitor}", variant=variant, first_exposed_at=exposed
                )
                if index < conversions:
                    Event.objects.create(
                        event_type="purchase",
                        visitor_id=visitor,
                        quantity=1,
                        unit_price=1,
                        occurred_at=exposed + timedelta(hours=2),
                        idempotency_key=uuid.uuid4().hex,
                    )
    return experiment


def expected_lifts(method=stats.two_proportion_z_test) -> list[stats.Comparison]:
    totals, comparisons = [0, 0, 0, 0], []
    for counts in DAYS:
        totals = [total + count for total, count in zip(totals, counts, strict=True)]
        control = stats.ProportionStats(totals[0], totals[1])
        comparisons.append(method(control, stats.ProportionStats(totals[2], totals[3])))
    return comparisons


def test_each_day_is_the_cumulative_comparison_at_its_end(running):
    (key, points), *others = cumulative_lift(running).items()
    assert key == "v1" and not others
    assert [point.day for point in points] == lift_days(running)
    assert len(points) == len(DAYS)
    for point, expected in zip(points, expected_lifts(), strict=True):
        assert point.rel_lift == pytest.approx(float(expected.rel_lift), abs=1e-12)
        assert (point.rel_ci_low, point.rel_ci_high) == pytest.approx(
            (float(expected.rel_ci_low), float(expected.rel_ci_high)), abs=1e-12
        )
    # The last point is the results table's figure.
    final = experiment_results(running).variants[1].comparison
    assert points[-1].rel_lift == pytest.approx(float(final.rel_lift), abs=1e-12)


def test_the_sequential_method_plots_its_confidence_sequence(running):
    running.analysis_method = Experiment.Method.SEQUENTIAL
    running.save()
    points = cumulative_lift(running)["v1"]
    for point, expected in zip(points, expected_lifts(stats.sequential_test), strict=True):
        assert (point.rel_ci_low, point.rel_ci_high) == pytest.approx(
            (float(expected.rel_ci_low), float(expected.rel_ci_high)), abs=1e-12
        )
    fixed = expected_lifts()[-1]
    assert points[-1].rel_ci_high - points[-1].rel_ci_low > float(fixed.rel_ci_high - fixed.rel_ci_low)


def test_long_experiments_are_sampled_keeping_first_and_last_day():
    experiment = make_experiment(started_at=timezone.now() - timedelta(days=199))
    days = lift_days(experiment, max_points=60)
    assert len(days) == 60 and len(set(days)) == 60
    assert days[0] == timezone.localdate(experiment.started_at) and days[-1] == timezone.localdate()
    assert lift_days(make_experiment("draft", status="draft")) == []


def test_the_svg_has_a_point_band_and_line_per_variant(running):
    series = cumulative_lift(running)
    svg = str(lift_chart(series))
    assert (
        svg.startswith('<svg class="lift-chart"')
        and "<script" not in svg
        and "http" not in svg.replace("http://www.w3.org", "")
    )
    assert svg.count('class="lift-point"') == len(DAYS)
    assert svg.count('class="lift-band"') == 1 and svg.count('class="lift-line"') == 1
    lifts = [float(value) for value in re.findall(r'data-lift="([-0-9.]+)"', svg)]
    assert lifts == pytest.approx([point.rel_lift for point in series["v1"]], abs=1e-6)
    assert lift_chart({"v1": []}) == ""


def test_the_results_page_shows_the_chart(running, admin_client):
    page = admin_client.get(reverse("admin:promotions_experiment_results", args=[running.pk])).content.decode()
    assert "Cumulative lift over time" in page
    assert page.count('class="lift-point"') == len(DAYS)
