"""The experiment admin flow in a real browser: create, start, see results, declare a winner.

Exposures and purchases are created as rows (what ``variant_for`` and the tracking buffer would
have written), spread over three days so that the cumulative lift chart has several points. The
figures the page shows are checked against the statistics engine run on counts this test keeps
itself, so the Django layer (queries, formatting, the SVG) is what is under test.
"""

from __future__ import annotations

import random
import uuid
from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from promotions.experiments.models import Assignment, Experiment
from promotions.experiments.stats import inference as stats
from promotions.tracking.models import Event

pytestmark = pytest.mark.django_db(transaction=True)
PASSWORD = "browser-test-password"
# Conversion rate of each arm; the treatment is clearly better, so its lift is significant.
RATES = {"control": 0.10, "treatment": 0.18}
UNITS_PER_DAY = 150
PRICE = Decimal("12.50")


def percent(value: float, digits: int = 2) -> str:
    return f"{100 * value:+.{digits}f}%"


def make_traffic(experiment: Experiment) -> list[tuple[str, datetime, datetime | None]]:
    """Exposed units of both arms over the last three local days (variant key, exposure, purchase time)."""
    rng = random.Random(6)  # noqa: S311 - test data, not security
    now = timezone.now()
    first_day = timezone.localdate(now) - timedelta(days=2)
    start = timezone.make_aware(datetime.combine(first_day, time(0, 30)))
    Experiment.objects.filter(pk=experiment.pk).update(started_at=start)
    variants = {variant.key: variant for variant in experiment.variants.all()}
    units, assignments, events = [], [], []
    for offset in range(3):
        day_start = start + timedelta(days=offset)
        for index in range(2 * UNITS_PER_DAY):
            key = "control" if index % 2 == 0 else "treatment"
            # Spread over the day, never later than half an hour ago.
            exposed = min(day_start + timedelta(minutes=rng.uniform(0, 23 * 60)), now - timedelta(minutes=30))
            bought = exposed + timedelta(minutes=20) if rng.random() < RATES[key] else None
            visitor = f"browser-{offset}-{index}"
            units.append((key, exposed, bought))
            assignments.append(
                Assignment(
                    experiment=experiment, unit_id=f"visitor:{visitor}", variant=variants[key], first_exposed_at=exposed
                )
            )
            if bought is not None:
                events.append(
                    Event(
                        event_type="purchase",
                        visitor_id=visitor,
                        quantity=1,
                        unit_price=PRICE,
                        occurred_at=bought,
                        idempotency_key=uuid.uuid4().hex,
                    )
                )
    Assignment.objects.bulk_create(assignments)
    Event.objects.bulk_create(events)
    return units


def counts(units, until: datetime | None = None) -> dict[str, stats.ProportionStats]:
    """Units exposed and units converted per arm, before ``until``."""
    result = {}
    for key in RATES:
        arm = [unit for unit in units if unit[0] == key and (until is None or unit[1] < until)]
        converted = sum(1 for _key, _exposed, bought in arm if bought is not None and (until is None or bought < until))
        result[key] = stats.ProportionStats(len(arm), converted)
    return result


def cells(page, variant: str) -> list[str]:
    row = page.locator("tr.variant-row", has_text=variant)
    return [text.strip() for text in row.locator("td").all_inner_texts()]


def test_admin_flow_create_start_results_declare_winner(live_server, page, django_user_model, browser_artifacts):
    django_user_model.objects.create_superuser("boss", "boss@example.com", PASSWORD)
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "boss")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#user-tools")

    # 1. Create: the form refuses weights that do not sum to 100%, then saves.
    page.goto(f"{live_server.url}/admin/promotions/experiment/add/")
    page.fill("#id_key", "checkout-banner")
    page.fill("#id_name", "Checkout banner")
    page.fill("#id_hypothesis", "A banner on the cart page raises conversion.")
    for index, (key, share) in enumerate((("control", "50"), ("treatment", "40"))):
        page.fill(f"#id_variants-{index}-key", key)
        page.fill(f"#id_variants-{index}-percent", share)
    page.check("#id_variants-0-is_control")
    page.click("input[name=_save]")
    page.wait_for_selector(".errornote")
    assert "Variant weights must sum to 100%." in page.locator(".errorlist").all_inner_texts()
    page.fill("#id_variants-1-percent", "50")
    page.click("input[name=_save]")
    page.wait_for_selector(".messagelist .success")
    experiment = Experiment.objects.get(key="checkout-banner")
    assert experiment.status == Experiment.Status.DRAFT

    # 2. Start it with the list's action.
    page.check(f"input.action-select[value='{experiment.pk}']")
    page.select_option("select[name=action]", "start_experiments")
    page.click("button[name=index]")
    page.wait_for_selector(".messagelist .success")
    experiment.refresh_from_db()
    assert experiment.status == Experiment.Status.RUNNING

    # 3. Traffic, then the results page, reached from the list.
    units = make_traffic(experiment)
    page.goto(f"{live_server.url}/admin/promotions/experiment/")
    page.click(f"a[href$='/experiment/{experiment.pk}/results/']")
    page.wait_for_selector("svg.lift-chart")

    final = counts(units)
    expected = stats.two_proportion_z_test(final["control"], final["treatment"])
    (p_adjusted,) = stats.holm_adjust([float(expected.p_value)])
    for key, arm in final.items():
        row = cells(page, key)
        assert row[2:6] == [
            str(arm.n),
            str(arm.successes),
            f"{100 * arm.successes / arm.n:.2f}%",
            f"{arm.successes * PRICE / arm.n:.2f}",
        ]
        bar = page.locator(f"svg.rate-chart g:has(text:text-is('{key}')) rect.rate-bar")
        assert float(bar.get_attribute("data-rate")) == pytest.approx(arm.successes / arm.n, abs=1e-6)
        assert bar.bounding_box()["width"] > 0
    treatment = cells(page, "treatment")
    assert p_adjusted < 0.05  # the data were made so: the lift is marked significant
    assert treatment[6:9] == [
        percent(float(expected.rel_lift)) + " *",
        f"[{percent(float(expected.rel_ci_low))}, {percent(float(expected.rel_ci_high))}]",
        f"{p_adjusted:.4f}",
    ]

    # The cumulative lift chart: one point per day, each the engine's figures at that day's end.
    points = page.locator("svg.lift-chart circle.lift-point")
    days = sorted({timezone.localdate(exposed) for _key, exposed, _bought in units} | {timezone.localdate()})
    assert points.count() == len(days)
    assert page.locator("svg.lift-chart path.lift-band").bounding_box()["height"] > 0
    assert page.locator("svg.lift-chart polyline.lift-line").count() == 1
    for index, day in enumerate(days):
        point = points.nth(index)
        assert point.get_attribute("data-day") == day.isoformat()
        until = timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min))
        daily = counts(units, until)
        comparison = stats.two_proportion_z_test(daily["control"], daily["treatment"])
        for attribute, value in (
            ("data-lift", comparison.rel_lift),
            ("data-ci-low", comparison.rel_ci_low),
            ("data-ci-high", comparison.rel_ci_high),
        ):
            assert float(point.get_attribute(attribute)) == pytest.approx(float(value), abs=1e-6)
    assert not page.locator(".errornote").count()  # a 50/50 split as designed: no SRM banner
    screenshot = browser_artifacts / f"experiment-results-{connection.vendor}.png"
    page.screenshot(path=str(screenshot), full_page=True)
    assert screenshot.stat().st_size > 10_000

    # 4. Declare the treatment the winner: concluded, rolled out to all traffic.
    page.locator("tr.variant-row", has_text="treatment").locator("input[type=submit]").click()
    page.wait_for_selector(".messagelist .success")
    assert "reatment won Checkout banner: every visitor now gets it." in page.locator(".messagelist").inner_text()
    experiment.refresh_from_db()
    assert experiment.status == Experiment.Status.CONCLUDED and experiment.winner.key == "treatment"
    assert "winner" in cells(page, "treatment")[-1]


def test_admin_factorial_design(live_server, page, django_user_model):
    django_user_model.objects.create_superuser("boss", "boss@example.com", PASSWORD)
    page.goto(f"{live_server.url}/admin/login/?next=/admin/promotions/experiment/add/")
    page.fill("#id_username", "boss")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#id_factors")
    page.fill("#id_key", "cards-by-model")
    page.fill("#id_name", "Cards by model")
    # The blank variant rows the add page shows are left as they are: the design replaces them.
    page.fill("#id_factors", "model: item_knn=50, hybrid=40\ntemplate: cards, list, grid")
    page.click("input[name=_save]")
    page.wait_for_selector(".errornote")
    assert "Line 1: the weights of 'model' sum to 90%, not 100%." in page.locator(".errorlist").all_inner_texts()
    page.fill("#id_factors", "model: item_knn=50, hybrid=50\ntemplate: cards, list, grid")
    page.click("input[name=_continue]")
    page.wait_for_selector(".messagelist .success")
    messages = page.locator(".messagelist").inner_text()
    assert "6 variants generated from the factorial design." in messages
    # 50% x 1/3 = 16.6667%: stored as 16.67% or 16.66%, summing to exactly 100%.
    assert "rounded, by at most 0.0067 percentage points" in messages
    experiment = Experiment.objects.get(key="cards-by-model")
    saved = sorted(experiment.variants.values_list("key", "weight", "is_control", "config"))
    assert {weight for _key, weight, _control, _config in saved} == {Decimal("0.1666"), Decimal("0.1667")}
    assert len(saved) == 6 and sum(weight for _key, weight, _control, _config in saved) == 1
    assert [(key, control, config) for key, _weight, control, config in saved if control] == [
        ("model-item_knn--template-cards", True, {"model": "item_knn", "template": "cards"})
    ]
    # The generated variants are ordinary ones: the change form shows them and saves them unchanged.
    assert page.locator("input[name$='-key'][value='model-item_knn--template-cards']").count() == 1
    page.click("input[name=_save]")
    page.wait_for_selector(".messagelist .success")
    assert sorted(experiment.variants.values_list("key", "weight", "is_control", "config")) == saved
