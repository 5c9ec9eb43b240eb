"""``manage.py promotions_analyze_ab``: JSON report on small CSV files and on Hillstrom, exit code 2 on bad input."""

import csv
import io
import json

import pytest
from django.core.management import call_command, load_command_class
from scipy import stats as scipy_stats
from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest

from promotions.experiments.stats import inference as stats

COMPARISON_KEYS = {
    "variant",
    "control",
    "abs_lift",
    "rel_lift",
    "ci_low",
    "ci_high",
    "rel_ci_low",
    "rel_ci_high",
    "p_value",
    "p_value_adjusted",
    "chance_to_beat_control",
}


def _write_csv(path, header, rows):
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.fixture
def conversion_csv(tmp_path):
    """40 units per group: 8 conversions in control, 16 in treatment, over four days."""
    rows = [
        ("control" if unit % 2 == 0 else "treatment", f"2024-05-0{1 + unit // 2 % 4}", unit % 7, 0)
        for unit in range(80)
    ]
    converted = {("control", index) for index in range(8)} | {("treatment", index) for index in range(16)}
    seen = {"control": 0, "treatment": 0}
    marked = []
    for group, day, covariate, _ in rows:
        marked.append((group, day, covariate, int((group, seen[group]) in converted)))
        seen[group] += 1
    return _write_csv(tmp_path / "conversion.csv", ["arm", "day", "pre", "converted"], marked)


@pytest.fixture
def revenue_csv(tmp_path):
    control = [0.0, 12.5, 3.0, 0.0, 7.25, 30.0, 0.0, 4.0]
    treatment = [5.0, 0.0, 22.0, 14.5, 0.0, 9.0, 40.0, 3.5, 1.0]
    rows = [("A", value) for value in control] + [("B", value) for value in treatment]
    return _write_csv(tmp_path / "revenue.csv", ["variant", "revenue"], rows), control, treatment


def _run(*args, tmp_path) -> dict:
    output = tmp_path / "report.json"
    call_command("promotions_analyze_ab", *map(str, args), "--json", str(output), stdout=io.StringIO())
    return json.loads(output.read_text(encoding="utf-8"))


def test_conversion_report_layout_and_figures(conversion_csv, tmp_path):
    report = _run(conversion_csv, "--group-col", "arm", "--metric-col", "converted", tmp_path=tmp_path)
    assert set(report) == {"metric", "method", "variants", "comparisons", "srm_p_value"}
    assert (report["metric"], report["method"]) == ("converted", "frequentist")
    assert report["variants"] == [
        {"name": "control", "n": 40, "mean": 0.2},
        {"name": "treatment", "n": 40, "mean": 0.4},
    ]
    [comparison] = report["comparisons"]
    assert set(comparison) == COMPARISON_KEYS
    z, p_value = proportions_ztest([16, 8], [40, 40])
    ci_low, ci_high = confint_proportions_2indep(16, 40, 8, 40, method="wald", compare="diff")
    assert comparison["abs_lift"] == pytest.approx(0.2)
    assert comparison["rel_lift"] == pytest.approx(1.0)
    assert comparison["p_value"] == pytest.approx(p_value, rel=1e-9)
    assert comparison["p_value_adjusted"] == comparison["p_value"]
    assert (comparison["ci_low"], comparison["ci_high"]) == pytest.approx((ci_low, ci_high), abs=1e-12)
    assert comparison["chance_to_beat_control"] is None
    assert report["srm_p_value"] == pytest.approx(1.0)


def test_revenue_report_uses_welch(revenue_csv, tmp_path):
    path, control, treatment = revenue_csv
    report = _run(path, "--group-col", "variant", "--metric-col", "revenue", "--control", "A", tmp_path=tmp_path)
    [comparison] = report["comparisons"]
    assert comparison["p_value"] == pytest.approx(
        scipy_stats.ttest_ind(treatment, control, equal_var=False).pvalue, rel=1e-9
    )
    assert report["variants"][1] == {"name": "B", "n": 9, "mean": pytest.approx(sum(treatment) / 9)}


def test_bayesian_report_has_chance_to_beat_control_and_no_p_value(conversion_csv, tmp_path):
    args = ("--group-col", "arm", "--metric-col", "converted", "--method", "bayesian")
    [comparison] = _run(conversion_csv, *args, tmp_path=tmp_path)["comparisons"]
    control, treatment = stats.BetaPosterior(9, 33), stats.BetaPosterior(17, 25)
    assert comparison["chance_to_beat_control"] == pytest.approx(
        stats.chance_to_beat_integrated(control, treatment), abs=0.005
    )
    assert comparison["p_value"] is None and comparison["p_value_adjusted"] is None
    assert comparison["ci_low"] < comparison["abs_lift"] < comparison["ci_high"]


def test_sequential_report_looks_at_each_day(conversion_csv, tmp_path):
    args = ("--group-col", "arm", "--metric-col", "converted", "--method", "sequential", "--time-col", "day")
    [comparison] = _run(conversion_csv, *args, tmp_path=tmp_path)["comparisons"]
    with conversion_csv.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    looks = []
    for day in sorted({row["day"] for row in rows}):
        arms = []
        for group in ("control", "treatment"):
            values = [int(row["converted"]) for row in rows if row["arm"] == group and row["day"] <= day]
            arms.append(stats.ProportionStats(len(values), sum(values)))
        looks.append(tuple(arms))
    expected = stats.sequential_test_over_looks(looks)
    assert len(looks) == 4
    assert comparison["p_value"] == pytest.approx(expected.p_value)
    assert (comparison["ci_low"], comparison["ci_high"]) == pytest.approx((expected.ci_low, expected.ci_high))


def test_covariate_turns_on_cuped(conversion_csv, tmp_path):
    args = ("--group-col", "arm", "--metric-col", "converted", "--covariate-col", "pre")
    [comparison] = _run(conversion_csv, *args, tmp_path=tmp_path)["comparisons"]
    with conversion_csv.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    arms = [
        stats.CovariateStats.from_values(
            [float(row["converted"]) for row in rows if row["arm"] == group],
            [float(row["pre"]) for row in rows if row["arm"] == group],
        )
        for group in ("control", "treatment")
    ]
    expected = stats.welch_t_test(*stats.cuped_adjust(*arms))
    assert comparison["abs_lift"] == pytest.approx(expected.abs_lift)
    assert comparison["p_value"] == pytest.approx(expected.p_value)


def test_weights_set_the_split_that_srm_tests(conversion_csv, tmp_path):
    args = ("--group-col", "arm", "--metric-col", "converted", "--weights", "control=90,treatment=10")
    report = _run(conversion_csv, *args, tmp_path=tmp_path)
    # 40 / 40 against 72 / 8 expected: chi2 = 32^2 / 72 + 32^2 / 8 = 142.2.
    assert report["srm_p_value"] == pytest.approx(scipy_stats.chi2.sf(32**2 / 72 + 32**2 / 8, 1))


@pytest.mark.data
@pytest.mark.parametrize("metric", ["visit", "conversion", "spend"])
def test_hillstrom_report_equals_the_reference(hillstrom_csv, hillstrom_reference, metric, tmp_path):
    args = ("--group-col", "segment", "--metric-col", metric, "--control", "No E-Mail")
    report = _run(hillstrom_csv, *args, tmp_path=tmp_path)
    assert [variant["name"] for variant in report["variants"]] == ["No E-Mail", "Mens E-Mail", "Womens E-Mail"]
    assert report["srm_p_value"] == pytest.approx(hillstrom_reference["srm"]["p_value"], abs=1e-6)
    p_values = []
    for comparison in report["comparisons"]:
        reference = hillstrom_reference["comparisons"][comparison["variant"]][metric]
        for field in ("abs_lift", "rel_lift", "ci_low", "ci_high", "rel_ci_low", "rel_ci_high"):
            assert comparison[field] == pytest.approx(reference[field], abs=1e-6), field
        assert comparison["p_value"] == pytest.approx(reference["p_value"], rel=1e-6, abs=1e-300)
        p_values.append(reference["p_value"])
    adjusted = [comparison["p_value_adjusted"] for comparison in report["comparisons"]]
    assert adjusted == pytest.approx([min(1, 2 * min(p_values)), max(p_values)], rel=1e-6, abs=1e-300)


def test_undefined_figures_are_null(tmp_path):
    path = _write_csv(tmp_path / "flat.csv", ["arm", "converted"], [(arm, 0) for arm in ("control", "treatment") * 5])
    [comparison] = _run(path, "--group-col", "arm", "--metric-col", "converted", tmp_path=tmp_path)["comparisons"]
    assert comparison["abs_lift"] == 0.0
    assert comparison["p_value"] is None and comparison["rel_lift"] is None


def test_text_output_warns_about_sample_ratio_mismatch(conversion_csv):
    output = io.StringIO()
    args = ("--group-col", "arm", "--metric-col", "converted", "--weights", "control=90,treatment=10")
    call_command("promotions_analyze_ab", str(conversion_csv), *args, stdout=output)
    assert "treatment vs control: lift 0.2 [" in output.getvalue()
    assert "WARNING: sample ratio mismatch" in output.getvalue()


# --- bad input ------------------------------------------------------------------------------------


def _exit_code_and_error(capsys, *args) -> tuple[int, str]:
    """Run the command as ``manage.py`` does, catching its exit."""
    command = load_command_class("promotions", "promotions_analyze_ab")
    with pytest.raises(SystemExit) as exit_info:
        command.run_from_argv(["manage.py", "promotions_analyze_ab", *map(str, args)])
    return exit_info.value.code, capsys.readouterr().err


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (("--group-col", "arm", "--metric-col", "revenue"), "column 'revenue' not found"),
        (("--group-col", "arm", "--metric-col", "day"), "column 'day' is not numeric"),
        (("--group-col", "arm", "--metric-col", "converted", "--control", "holdout"), "control group 'holdout'"),
        (("--group-col", "arm", "--metric-col", "converted", "--covariate-col", "day"), "column 'day' is not"),
        (("--group-col", "arm", "--metric-col", "converted", "--time-col", "arm"), "neither ISO dates nor numbers"),
        (("--group-col", "arm", "--metric-col", "converted", "--weights", "control=50,treatment"), "bad --weights"),
        (("--group-col", "arm", "--metric-col", "converted", "--weights", "control=-1,treatment=1"), "bad --weights"),
        (("--group-col", "arm", "--metric-col", "converted", "--weights", "control=50,other=50"), "do not match"),
    ],
)
def test_bad_input_exits_with_code_2_and_one_line(conversion_csv, capsys, extra, message):
    code, error = _exit_code_and_error(capsys, conversion_csv, *extra)
    assert code == 2
    assert message in error
    assert len(error.strip().splitlines()) == 1


def test_one_group_only_exits_with_code_2(tmp_path, capsys):
    path = _write_csv(tmp_path / "single.csv", ["arm", "converted"], [("control", 1), ("control", 0)])
    code, error = _exit_code_and_error(capsys, path, "--group-col", "arm", "--metric-col", "converted")
    assert (code, "only one group" in error) == (2, True)


def test_missing_default_control_exits_with_code_2(revenue_csv, capsys):
    code, error = _exit_code_and_error(capsys, revenue_csv[0], "--group-col", "variant", "--metric-col", "revenue")
    assert (code, "--control is required" in error) == (2, True)


def test_missing_file_exits_with_code_2(tmp_path, capsys):
    code, error = _exit_code_and_error(capsys, tmp_path / "absent.csv", "--group-col", "g", "--metric-col", "m")
    assert (code, "file not found" in error) == (2, True)
