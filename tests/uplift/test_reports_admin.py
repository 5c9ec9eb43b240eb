"""Stored uplift reports: ``promotions_uplift --save``, and the admin's list and SVG curves."""

import io
import json
import re

import numpy as np
import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from promotions.admin import uplift as uplift_admin
from promotions.models import UpliftReport
from promotions.uplift import data
from promotions.uplift.metrics import CURVE_POINTS

pytestmark = pytest.mark.django_db
ARGS = ("--treatment-col", "arm", "--outcome-col", "bought", "--exclude", "spend")


@pytest.fixture
def saved(experiment_csv, tmp_path):
    output = tmp_path / "report.json"
    out = io.StringIO()
    call_command(
        "promotions_uplift", str(experiment_csv), *ARGS, "--json", str(output), "--save", " spring ", stdout=out
    )
    return UpliftReport.objects.get(), json.loads(output.read_text()), out.getvalue()


def test_save_stores_the_printed_figures_and_the_test_curves(saved, experiment_csv):
    report, printed, out = saved
    assert report.name == "spring" and f"#{report.pk}" in out
    assert report.figures == printed
    assert report.outcome == "bought" and report.treatment == "promo"
    curves = report.curves["promo"]
    assert curves["model"] == printed["treatments"]["promo"]["model"] and curves["seed"] == 42
    assert curves["test"] == printed["treatments"]["promo"]["rows"]["test"]
    for name in ("qini", "uplift"):
        x, y = curves[name]["x"], curves[name]["y"]
        assert 2 < len(x) == len(y) <= CURVE_POINTS and x[0] == 0 and x[-1] == curves["test"]
        assert np.all(np.diff(x) > 0)
    # At the end of the uplift curve everyone is targeted: (treated rate - control rate) x test rows,
    # whatever the model; recomputed here from the same split of the file.
    experiment = data.load_experiment(experiment_csv, "arm", "bought", exclude=["spend"])
    _, treatment, outcome = data.pair(experiment, "promo")
    _, test = data.stratified_split(treatment, outcome, 0.3, 42)
    t, y_test = treatment[test], outcome[test]
    effect = y_test[t == 1].mean() - y_test[t == 0].mean()
    assert curves["uplift"]["y"][-1] == pytest.approx(effect * test.size, abs=1e-4)


def _polylines(html):
    return [
        [tuple(map(float, point.split(","))) for point in points.split()]
        for points in re.findall(r'<polyline class="curve" points="([^"]+)"', html)
    ]


def test_the_change_page_draws_the_stored_curves_and_the_diagonal(saved, admin_client):
    report, printed, _ = saved
    page = admin_client.get(reverse("admin:promotions_upliftreport_change", args=[report.pk])).content.decode()
    qini_line, uplift_line = _polylines(page)
    assert page.count('class="diagonal"') == 2
    # A point in the middle of the drawn uplift curve is the stored point, scaled onto the plot.
    stored = report.curves["promo"]["uplift"]
    middle = len(stored["x"]) // 2
    low, high = min(0.0, *stored["y"]), max(0.0, *stored["y"])
    x_pixel = uplift_admin.LEFT + uplift_admin.PLOT_WIDTH * stored["x"][middle] / stored["x"][-1]
    y_pixel = uplift_admin.TOP + uplift_admin.PLOT_HEIGHT * (high - stored["y"][middle]) / (high - low)
    assert uplift_line[middle] == pytest.approx((x_pixel, y_pixel), abs=0.01)
    assert len(qini_line) == len(report.curves["promo"]["qini"]["x"])
    # The figures table lists every model with its test Qini.
    for model, figures in printed["treatments"]["promo"]["models"].items():
        assert model in page and f"{figures['qini']:.4f}" in page
    assert "<strong>" + printed["treatments"]["promo"]["model"] + "</strong>" in page


def test_the_list_shows_best_model_and_figures(saved, admin_client):
    report, printed, _ = saved
    page = admin_client.get(reverse("admin:promotions_upliftreport_changelist")).content.decode()
    result = printed["treatments"]["promo"]
    assert "spring" in page and result["model"] in page
    for figure in (result["qini"], result["auuc"], result["uplift_at"]["30"]):
        assert f"{figure:.4f}" in page
    assert reverse("admin:promotions_upliftreport_add") not in page  # reports come from the command only


def test_diagonal_runs_from_the_origin_to_the_curve_end():
    chart = uplift_admin.curve_chart([0, 5, 10], [0, -2, 4], "t")
    bottom = uplift_admin.TOP + uplift_admin.PLOT_HEIGHT
    assert chart["points"].split()[0] == chart["diagonal"]["x1"] + "," + chart["diagonal"]["y1"]
    assert chart["points"].split()[-1] == chart["diagonal"]["x2"] + "," + chart["diagonal"]["y2"]
    assert float(chart["diagonal"]["y2"]) == pytest.approx(uplift_admin.TOP)  # the highest value: top
    assert float(chart["points"].split()[1].split(",")[1]) == pytest.approx(bottom)  # the lowest: bottom


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (("--treatment-col", "arm", "--outcome-col", "bought", "--control", "none"), "control 'none' is not a value"),
        (("--treatment-col", "arm", "--outcome-col", "bought", "--repeats", "0"), "at least 1"),
        (("--treatment-col", "arm", "--outcome-col", "bought", "--save", "  "), "non-empty report name"),
        (("--treatment-col", "arm", "--outcome-col", "bought", "--save", "x" * 201), "longer than 200"),
    ],
)
def test_bad_input_stores_nothing(experiment_csv, extra, message):
    # call_command, not run_from_argv: that one closes the database connection the test runs in.
    # The exit code and the single error line are checked in test_command.py.
    arguments = [str(experiment_csv), *extra] if "--save" in extra else [str(experiment_csv), *extra, "--save", "x"]
    with pytest.raises(CommandError, match=re.escape(message)) as error:
        call_command("promotions_uplift", *arguments, stdout=io.StringIO())
    assert error.value.returncode == 2
    assert not UpliftReport.objects.exists()
