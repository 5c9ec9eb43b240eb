"""The experiment admin: variant validation, guarded actions, list figures and the results page."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from promotions.experiments.models import Assignment, Experiment
from promotions.experiments.results import experiment_results
from promotions.experiments.stats import inference as stats
from promotions.tracking.models import Event
from tests.experiments.factories import make_experiment

pytestmark = pytest.mark.django_db
ADD_URL = reverse("admin:promotions_experiment_add")
LIST_URL = reverse("admin:promotions_experiment_changelist")


def form_data(*variants: tuple[str, str, bool]) -> dict:
    data = {
        "key": "hero",
        "name": "Hero banner",
        "hypothesis": "",
        "traffic_share": "1",
        "layer": "",
        "salt": "",
        "primary_metric": "conversion",
        "guardrail_metrics": "[]",
        "analysis_method": "frequentist",
        "targeting": "{}",
        "variants-TOTAL_FORMS": str(len(variants)),
        "variants-INITIAL_FORMS": "0",
        "variants-MIN_NUM_FORMS": "2",
        "variants-MAX_NUM_FORMS": "1000",
    }
    for index, (key, percent, control) in enumerate(variants):
        data |= {
            f"variants-{index}-key": key,
            f"variants-{index}-name": "",
            f"variants-{index}-percent": percent,
            f"variants-{index}-config": "{}",
        }
        if control:
            data[f"variants-{index}-is_control"] = "on"
    return data


def test_weights_must_sum_to_100_percent(admin_client):
    response = admin_client.post(ADD_URL, form_data(("control", "60", True), ("b", "30", False)))
    assert response.status_code == 200
    assert "Variant weights must sum to 100%." in response.content.decode()
    assert not Experiment.objects.exists()


def test_exactly_one_control(admin_client):
    response = admin_client.post(ADD_URL, form_data(("control", "50", True), ("b", "50", True)))
    assert "Exactly one variant must be the control (there are 2)." in response.content.decode()
    assert not Experiment.objects.exists()


def test_a_valid_experiment_stores_weights_as_shares(admin_client):
    response = admin_client.post(ADD_URL, form_data(("control", "50", True), ("b", "50", False)))
    assert response.status_code == 302
    experiment = Experiment.objects.get()
    assert [variant.weight for variant in experiment.variants.all()] == [Decimal("0.5"), Decimal("0.5")]
    assert experiment.salt == "hero" and experiment.status == Experiment.Status.DRAFT
    change = admin_client.get(reverse("admin:promotions_experiment_change", args=[experiment.pk]))
    assert 'value="50.00"' in change.content.decode()
    assert reverse("admin:promotions_experiment_results", args=[experiment.pk]) in change.content.decode()
    assert admin_client.get(ADD_URL).status_code == 200


def test_start_needs_the_start_permission(client, django_user_model):
    experiment = make_experiment(status=Experiment.Status.DRAFT)
    staff = django_user_model.objects.create_user("editor", is_staff=True)
    staff.user_permissions.add(*Permission.objects.filter(codename__in=["view_experiment", "change_experiment"]))
    client.force_login(staff)
    action = {"action": "start_experiments", "_selected_action": [experiment.pk]}
    client.post(LIST_URL, action)
    assert Experiment.objects.get().status == Experiment.Status.DRAFT
    staff.user_permissions.add(Permission.objects.get(codename="start_experiment"))
    client.post(LIST_URL, action)
    experiment.refresh_from_db()
    assert experiment.status == Experiment.Status.RUNNING and experiment.started_at is not None


def test_pause_and_stop(admin_client):
    experiment = make_experiment()
    admin_client.post(LIST_URL, {"action": "pause_experiments", "_selected_action": [experiment.pk]})
    assert Experiment.objects.get().status == Experiment.Status.PAUSED
    admin_client.post(LIST_URL, {"action": "stop_experiments", "_selected_action": [experiment.pk]})
    experiment.refresh_from_db()
    assert experiment.status == Experiment.Status.STOPPED and experiment.ended_at is not None


def test_list_and_results_page_show_counts_and_the_srm_warning(admin_client):
    experiment = make_experiment()
    control, treatment = experiment.variants.order_by("pk")
    exposed = datetime(2024, 5, 1, tzinfo=UTC)
    Assignment.objects.bulk_create(
        Assignment(
            experiment=experiment,
            unit_id=f"visitor:{index}",
            variant=control if index < 100 else treatment,
            first_exposed_at=exposed,
        )
        for index in range(110)
    )
    listing = admin_client.get(LIST_URL).content.decode()
    assert "control: 100 / v1: 10" in listing
    page = admin_client.get(reverse("admin:promotions_experiment_results", args=[experiment.pk])).content.decode()
    assert "Sample ratio mismatch" in page
    assert page.count('class="variant-row"') == 2


def test_the_results_page_has_one_title_and_breadcrumbs_through_experiments(admin_client):
    experiment = make_experiment()
    page = admin_client.get(reverse("admin:promotions_experiment_results", args=[experiment.pk])).content.decode()
    assert page.count("<h1") == 1  # the title is the admin's heading, not repeated by the template
    assert page.count(f"<h1>Results of {experiment}</h1>") == 1
    assert f"<h1>{experiment}</h1>" not in page
    crumbs = page[page.index('<div class="breadcrumbs">') :]
    crumbs = crumbs[: crumbs.index("</div>")]
    links = [
        reverse("admin:index"),
        reverse("admin:app_list", args=["promotions"]),
        LIST_URL,
        reverse("admin:promotions_experiment_change", args=[experiment.pk]),
    ]
    positions = [crumbs.index(f'href="{link}"') for link in links]
    assert positions == sorted(positions) and ">Experiments</a>" in crumbs
    assert crumbs.rstrip().endswith("Results")


def test_declaring_a_winner_needs_its_permission_and_concludes(client, admin_client, django_user_model):
    experiment = make_experiment()
    winner = experiment.variants.get(key="v1")
    url = reverse("admin:promotions_experiment_declare", args=[experiment.pk, winner.pk])
    staff = django_user_model.objects.create_user("editor", is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_experiment"))
    client.force_login(staff)
    assert client.post(url).status_code == 403
    page = admin_client.get(reverse("admin:promotions_experiment_results", args=[experiment.pk])).content.decode()
    assert url in page
    assert admin_client.post(url).status_code == 302
    experiment.refresh_from_db()
    assert experiment.status == Experiment.Status.CONCLUDED and experiment.winner == winner


def test_guardrails_beside_the_primary_metric_and_csv_export(admin_client):
    experiment = make_experiment(guardrail_metrics=["revenue_per_visitor"])
    control, treatment = experiment.variants.order_by("pk")
    exposed = datetime(2024, 5, 1, tzinfo=UTC)
    for index in range(4):
        variant = control if index % 2 else treatment
        Assignment.objects.create(
            experiment=experiment, unit_id=f"visitor:{index}", variant=variant, first_exposed_at=exposed
        )
    page = admin_client.get(reverse("admin:promotions_experiment_results", args=[experiment.pk])).content.decode()
    assert "Guardrail: revenue per visitor" in page and page.count('class="guardrail-row"') == 2
    response = admin_client.get(reverse("admin:promotions_experiment_results_csv", args=[experiment.pk]))
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:5] == ["metric", "variant", "control", "weight", "units"]
    assert [(row[0], row[1], row[4]) for row in rows[1:]] == [
        ("conversion", "control", "2"),
        ("conversion", "v1", "2"),
        ("revenue_per_visitor", "control", "2"),
        ("revenue_per_visitor", "v1", "2"),
    ]


def test_the_results_page_charts_each_lift_interval_as_the_engine_computes_it(admin_client):
    # Few conversions, where a plain delta-method interval would reach below -100%.
    experiment = make_experiment(weights=("0.34", "0.33", "0.33"))
    control, worse, better = experiment.variants.order_by("pk")
    exposed = datetime(2024, 5, 1, tzinfo=UTC)
    converted = {control: 6, worse: 4, better: 12}
    for variant, conversions in converted.items():
        for index in range(60):
            unit = f"{variant.key}-{index}"
            Assignment.objects.create(
                experiment=experiment, unit_id=f"visitor:{unit}", variant=variant, first_exposed_at=exposed
            )
            if index < conversions:
                Event.objects.create(
                    event_type="purchase", visitor_id=unit, item_id="A", quantity=1, unit_price=Decimal("5"),
                    occurred_at=exposed.replace(hour=1), idempotency_key=f"order-{unit}",
                )  # fmt: skip
    page = admin_client.get(reverse("admin:promotions_experiment_results", args=[experiment.pk])).content.decode()
    chart = page[page.index('<svg class="interval-chart"') :]
    chart = chart[: chart.index("</svg>")]
    rows = re.findall(
        r'data-variant="([\w-]+)" data-lift="([-\d.]+)" data-ci-low="([-\d.]+)" data-ci-high="([-\d.]+)"', chart
    )
    assert [row[0] for row in rows] == ["v1", "v2"]
    for key, lift, low, high in rows:
        variant = experiment.variants.get(key=key)
        expected = stats.two_proportion_z_test(
            stats.ProportionStats(60, converted[control]), stats.ProportionStats(60, converted[variant])
        )
        figures = (float(expected.rel_lift), float(expected.rel_ci_low), float(expected.rel_ci_high))
        assert (float(lift), float(low), float(high)) == pytest.approx(figures, abs=1e-6)
        assert -1 < float(low) < float(lift) < float(high)
        # The table shows the same interval.
        assert f"[{100 * figures[1]:+.2f}%, {100 * figures[2]:+.2f}%]" in page
    engine = experiment_results(experiment)
    lows = [float(row[2]) for row in rows]
    assert [result.comparison.rel_ci_low for result in engine.variants[1:]] == pytest.approx(lows, abs=1e-6)
