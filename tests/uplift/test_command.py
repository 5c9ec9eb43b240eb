"""``manage.py promotions_uplift``: table and JSON on a synthetic experiment, exit code 2 on bad input, Hillstrom."""

import io
import json

import pytest
from django.core.management import call_command, load_command_class

from promotions.uplift import data, metrics
from promotions.uplift import learners as models

from .conftest import write_csv


def test_json_report(experiment_csv, tmp_path):
    output, out = tmp_path / "report.json", io.StringIO()
    call_command(
        "promotions_uplift",
        str(experiment_csv),
        *("--treatment-col", "arm", "--outcome-col", "bought", "--exclude", "spend", "--json", str(output)),
        stdout=out,
    )
    report = json.loads(output.read_text())
    assert report["outcome"] == "bought" and report["outcome_kind"] == "binary"
    assert report["split"] == {"train": 0.7, "test": 0.3, "validation": 0.25, "seed": 42, "repeats": 1}
    assert report["features"] == ["x0", "x1", "x2", "x3", "channel=phone", "channel=web"]
    result = report["treatments"]["promo"]
    assert set(result) >= {"model", "qini", "auuc", "uplift_at", "uplift_at_sd", "models"}
    assert result["models"][result["model"]]["qini"] == result["qini"] > 0.1
    assert list(result["uplift_at"]) == ["10", "20", "30"]
    assert "promo" in out.getvalue() and "x_learner" in out.getvalue()
    assert "±" not in out.getvalue()  # one split: no standard deviation to show


def test_spend_with_repeats(experiment_csv, tmp_path):
    output = tmp_path / "spend.json"
    call_command(
        "promotions_uplift",
        str(experiment_csv),
        *("--treatment-col", "arm", "--outcome-col", "spend", "--exclude", "bought"),
        *("--repeats", "2", "--seed", "5", "--json", str(output)),
        stdout=io.StringIO(),
    )
    result = json.loads(output.read_text())["treatments"]["promo"]
    assert set(result["models"]) == {"t_learner", "s_learner"}
    assert sum(result["chosen"].values()) == 2 and result["uplift_at_sd"]["30"] >= 0


def _run(args, capsys):
    command = load_command_class("promotions", "promotions_uplift")
    with pytest.raises(SystemExit) as exit_info:
        command.run_from_argv(["manage.py", "promotions_uplift", *map(str, args)])
    return exit_info.value.code, capsys.readouterr().err


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (("--treatment-col", "group", "--outcome-col", "bought"), "column 'group' not found"),
        (("--treatment-col", "arm", "--outcome-col", "bought", "--control", "none"), "control 'none' is not a value"),
        (("--treatment-col", "arm", "--outcome-col", "spend", "--outcome-kind", "binary"), "only 0 and 1"),
        (("--treatment-col", "arm", "--outcome-col", "channel"), "is not numeric"),
        (("--treatment-col", "arm", "--outcome-col", "bought", "--test-size", "1.5"), "shares between 0 and 1"),
        (("--treatment-col", "arm", "--outcome-col", "bought", "--repeats", "0"), "at least 1"),
        (("--treatment-col", "arm", "--outcome-col", "bought", "--save", " "), "non-empty report name"),
    ],
)
def test_bad_input_exits_with_code_2_and_one_line(experiment_csv, tmp_path, capsys, extra, message):
    output = tmp_path / "never.json"
    code, error = _run([experiment_csv, *extra, "--json", output], capsys)
    assert code == 2
    assert message in error and len(error.strip().splitlines()) == 1 and "Traceback" not in error
    assert not output.exists()


def test_unwritable_json_path_fails_before_training(experiment_csv, tmp_path, capsys):
    target = tmp_path / "missing" / "report.json"
    code, error = _run([experiment_csv, "--treatment-col", "arm", "--outcome-col", "bought", "--json", target], capsys)
    assert code == 2 and "does not exist" in error


def test_single_treatment_value(tmp_path, capsys):
    path = write_csv(tmp_path / "one.csv", ["arm", "x", "y"], [("control", i, i % 2) for i in range(20)])
    code, error = _run([path, "--treatment-col", "arm", "--outcome-col", "y"], capsys)
    assert code == 2 and "single value" in error


@pytest.mark.data
def test_real_hillstrom_file(datasets_dir):
    path = datasets_dir / "hillstrom" / "hillstrom.csv.gz"
    experiment = data.load_experiment(path, "segment", "visit", control="No E-Mail", exclude=["conversion", "spend"])
    assert experiment.features.shape == (64_000, 18)
    assert experiment.treatments == ["Womens E-Mail", "Mens E-Mail"]
    assert "zip_code=Surburban" in experiment.feature_names
    features, treatment, outcome = data.pair(experiment, "Womens E-Mail")
    assert treatment.sum() == 21_387 and (1 - treatment).sum() == 21_306
    train, test = data.stratified_split(treatment, outcome, 0.3, 42)
    model = models.TLearner(models.default_classifier()).fit(features[train], treatment[train], outcome[train])
    predicted = model.predict_uplift(features[test])
    # The e-mail's average effect on visits is +4.5 points; targeting its top 30% does better.
    assert metrics.uplift_at_k(outcome[test], predicted, treatment[test], 0.3) > 0.055
    assert metrics.qini_auc_score(outcome[test], predicted, treatment[test]) > 0.02
