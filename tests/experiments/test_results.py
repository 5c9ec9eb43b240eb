"""Results from hand-made assignments and events, checked against hand-computed counts."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from promotions.experiments.models import Assignment, Experiment
from promotions.experiments.results import experiment_results, guardrail_results, plan
from promotions.experiments.stats import inference as stats
from promotions.tasks import check_experiment_guardrails
from promotions.tracking.models import Event, Visitor
from tests.experiments.factories import make_experiment

pytestmark = pytest.mark.django_db
EXPOSED = datetime(2024, 5, 1, 12, tzinfo=UTC)
HOUR = timedelta(hours=1)


def purchase(visitor_id: str, quantity: int, price: str, at: datetime = EXPOSED + HOUR, **fields) -> None:
    Event.objects.create(
        event_type=fields.pop("event_type", "purchase"),
        visitor_id=visitor_id,
        quantity=quantity,
        unit_price=Decimal(price),
        occurred_at=at,
        idempotency_key=uuid.uuid4().hex,
        **fields,
    )


@pytest.fixture
def experiment(django_user_model) -> Experiment:
    experiment = make_experiment()
    control, treatment = experiment.variants.order_by("pk")
    user = django_user_model.objects.create_user("alice")
    Visitor.objects.create(key="linked", user=user)
    for unit, variant, extra in [
        ("visitor:a", control, {}),
        ("visitor:b", control, {}),
        (f"user:{user.pk}", control, {}),
        ("visitor:forced", control, {"forced": True}),
        ("visitor:merged", control, {"superseded": True}),
        ("visitor:c", treatment, {}),
        ("visitor:d", treatment, {}),
    ]:
        Assignment.objects.create(
            experiment=experiment, unit_id=unit, variant=variant, first_exposed_at=EXPOSED, **extra
        )
    purchase("a", 2, "5")  # control, revenue 10
    purchase("a", 1, "100", at=EXPOSED - HOUR)  # before exposure: not counted
    purchase("b", 1, "9", event_type="add_to_cart")  # not a purchase
    purchase("linked", 1, "4")  # alice through her linked visitor id...
    purchase("elsewhere", 1, "6", user=user)  # ...and under her user: revenue 10 in all
    purchase("forced", 1, "50")
    purchase("merged", 1, "50")
    purchase("c", 3, "2")  # treatment, revenue 6
    return experiment


def test_conversion_counts_and_comparison(experiment):
    results = experiment_results(experiment)
    control, treatment = results.variants
    assert (control.units, control.conversions, treatment.units, treatment.conversions) == (3, 2, 2, 1)
    assert (control.revenue.sum, control.revenue.sum_squares) == (20, 200)
    assert (treatment.revenue.sum, treatment.revenue.sum_squares) == (6, 36)
    expected = stats.two_proportion_z_test(stats.ProportionStats(3, 2), stats.ProportionStats(2, 1))
    assert treatment.comparison.p_value == pytest.approx(expected.p_value)
    assert treatment.comparison.abs_lift == pytest.approx(1 / 2 - 2 / 3)
    assert treatment.p_value_adjusted == pytest.approx(expected.p_value) and not treatment.significant
    assert control.comparison is None
    assert results.srm.p_value == pytest.approx(stats.sample_ratio_mismatch([3, 2], [0.5, 0.5]).p_value)


def test_revenue_per_visitor_uses_welch(experiment):
    experiment.primary_metric = Experiment.Metric.REVENUE
    treatment = experiment_results(experiment).variants[1]
    expected = stats.welch_t_test(stats.MeanStats(3, 20, 200), stats.MeanStats(2, 6, 36))
    assert treatment.comparison.p_value == pytest.approx(expected.p_value)
    assert treatment.comparison.abs_lift == pytest.approx(3 - 20 / 3)


def test_add_to_cart_metric_counts_its_own_event(experiment):
    experiment.primary_metric = Experiment.Metric.ADD_TO_CART
    control, treatment = experiment_results(experiment).variants
    assert (control.conversions, treatment.conversions) == (1, 0)


def test_an_experiment_without_exposures_has_no_comparison_or_srm():
    results = experiment_results(make_experiment())
    assert [result.units for result in results.variants] == [0, 0]
    assert results.srm is None and all(result.comparison is None for result in results.variants)


def test_guardrails_are_the_same_results_for_their_metrics(experiment):
    experiment.guardrail_metrics = ["add_to_cart"]
    (guardrail,) = guardrail_results(experiment)
    assert guardrail.metric == "add_to_cart"
    assert [(result.units, result.conversions) for result in guardrail.variants] == [(3, 1), (2, 0)]


def test_an_experiment_pauses_itself_when_a_guardrail_is_harmed():
    harmed = make_experiment("harmed", guardrail_metrics=["add_to_cart"], pause_on_guardrail_harm=True)
    watched_only = make_experiment("watched", guardrail_metrics=["add_to_cart"])
    for experiment in (harmed, watched_only):
        control, treatment = experiment.variants.order_by("pk")
        Assignment.objects.bulk_create(
            Assignment(
                experiment=experiment,
                unit_id=f"visitor:{index}",
                variant=control if index < 300 else treatment,
                first_exposed_at=EXPOSED,
            )
            for index in range(600)
        )
    for index in range(0, 300, 3):  # a third of the control adds to cart, nobody in the treatment
        purchase(str(index), 1, "1", event_type="add_to_cart")
    assert check_experiment_guardrails.delay().get() == ["harmed"]  # the periodic task, run eagerly
    assert Experiment.objects.get(key="harmed").status == Experiment.Status.PAUSED
    assert Experiment.objects.get(key="watched").status == Experiment.Status.RUNNING


def test_planner_at_the_traffic_so_far(experiment, admin_client):
    experiment.started_at = timezone.now() - timedelta(days=2)
    experiment.save()
    expected = stats.plan_proportion_test(2 / 3, 0.05, 5 / 2, arms=2)
    assert plan(experiment_results(experiment)).sample_size_per_arm == expected.sample_size_per_arm
    page = admin_client.get(reverse("admin:promotions_experiment_results", args=[experiment.pk])).content.decode()
    assert f"needs\n{expected.sample_size_per_arm} visitors per variant" in page
    assert page.count('class="rate-bar"') == 2
    assert 'data-rate="0.666667"' in page and 'data-rate="0.500000"' in page
    assert plan(experiment_results(make_experiment("fresh"))) is None


def test_an_event_under_a_linked_visitor_and_its_user_counts_once(experiment, django_user_model):
    alice = django_user_model.objects.get(username="alice")
    purchase("linked", 1, "5", user=alice)  # matches both the user and the linked visitor id
    control = experiment_results(experiment).variants[0]
    assert (control.revenue.sum, control.revenue.sum_squares) == (25, 100 + 225)


def test_the_number_of_queries_does_not_grow_with_the_units(experiment, django_assert_max_num_queries):
    with django_assert_max_num_queries(8) as few:
        experiment_results(experiment)
    control, _treatment = experiment.variants.order_by("pk")
    Assignment.objects.bulk_create(
        Assignment(experiment=experiment, unit_id=f"visitor:more{index}", variant=control, first_exposed_at=EXPOSED)
        for index in range(200)
    )
    for index in range(0, 200, 4):
        purchase(f"more{index}", 1, "3")
    with django_assert_max_num_queries(len(few.captured_queries)):
        results = experiment_results(experiment)
    assert (results.variants[0].units, results.variants[0].conversions) == (203, 52)
