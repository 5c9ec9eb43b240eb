"""Reading a logged experiment (one-hot text columns, errors) and the train/validate/test procedure."""

import math

import numpy as np
import pytest

from promotions.uplift import data
from promotions.uplift.evaluate import evaluate, format_report

from .conftest import synthetic_experiment, write_csv


@pytest.fixture
def small_csv(tmp_path):
    rows = [
        (
            "email" if i % 2 else "none",
            i % 5,
            ["web", "phone", "web"][i % 3],
            int(i % 2 == 1 and i % 3 == 0),
            2.5 * (i % 4),
        )
        for i in range(60)
    ]
    return write_csv(tmp_path / "small.csv", ["arm", "recency", "channel", "visit", "spend"], rows)


def test_features_default_to_the_other_columns_and_text_is_one_hot(small_csv):
    experiment = data.load_experiment(small_csv, "arm", "visit", control="none", exclude=["spend"])
    assert experiment.feature_names == ["recency", "channel=phone", "channel=web"]
    assert experiment.features[:3].tolist() == [[0, 0, 1], [1, 1, 0], [2, 0, 1]]
    assert experiment.binary and experiment.treatments == ["email"]
    spend = data.load_experiment(small_csv, "arm", "spend", control="none", features=["recency"])
    assert not spend.binary and spend.feature_names == ["recency"]
    forced = data.load_experiment(small_csv, "arm", "visit", control="none", outcome_kind="continuous")
    assert not forced.binary and "spend" in forced.feature_names


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"treatment_col": "group", "outcome_col": "visit"}, "column 'group' not found"),
        ({"treatment_col": "arm", "outcome_col": "visit", "features": ["age"]}, "column 'age' not found"),
        ({"treatment_col": "arm", "outcome_col": "visit", "control": "holdout"}, "control 'holdout' is not a value"),
        ({"treatment_col": "arm", "outcome_col": "visit"}, "control 'control' is not a value"),
        ({"treatment_col": "arm", "outcome_col": "channel", "control": "none"}, "outcome column 'channel' is not num"),
        (
            {"treatment_col": "arm", "outcome_col": "spend", "control": "none", "outcome_kind": "binary"},
            "must hold only 0 and 1",
        ),
        ({"treatment_col": "arm", "outcome_col": "arm"}, "different columns"),
        ({"treatment_col": "arm", "outcome_col": "visit", "features": ["arm"]}, "must not include"),
    ],
)
def test_bad_input_is_one_clear_error(small_csv, options, message):
    with pytest.raises(data.InputError, match=message):
        data.load_experiment(small_csv, **options)


def test_file_level_errors(tmp_path):
    with pytest.raises(data.InputError, match="file not found"):
        data.load_experiment(tmp_path / "nope.csv", "arm", "visit")
    one_arm = write_csv(tmp_path / "one.csv", ["arm", "x", "visit"], [("a", 1, 0), ("a", 2, 1)])
    with pytest.raises(data.InputError, match="single value"):
        data.load_experiment(one_arm, "arm", "visit", control="a")
    ids = write_csv(
        tmp_path / "ids.csv", ["arm", "id", "visit"], [("a" if i % 2 else "b", f"u{i}", 0) for i in range(60)]
    )
    with pytest.raises(data.InputError, match="distinct values"):
        data.load_experiment(ids, "arm", "visit", control="a")
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("arm,x,visit\na,1,0\nb,2\n", encoding="utf-8")
    with pytest.raises(data.InputError, match="line 3"):
        data.load_experiment(ragged, "arm", "visit", control="a")


def test_split_is_stratified_and_fixed_by_the_seed():
    treatment = np.repeat([0, 1], 500)
    outcome = np.tile(np.r_[np.ones(100), np.zeros(400)], 2)
    train, test = data.stratified_split(treatment, outcome, 0.3, seed=7)
    assert np.array_equal(test, data.stratified_split(treatment, outcome, 0.3, seed=7)[1])
    assert not np.array_equal(test, data.stratified_split(treatment, outcome, 0.3, seed=8)[1])
    assert test.size == 300 and np.intersect1d(train, test).size == 0
    # Each of the four treatment x outcome cells keeps its share: 30 treated responders, 120 treated others...
    cells = np.bincount(treatment[test] * 2 + outcome[test].astype(int))
    assert cells.tolist() == [120, 30, 120, 30]


def _experiment(outcome=None, seed=0):
    features, treatment, synthetic_outcome, _ = synthetic_experiment(n=3000, seed=seed)
    arms = np.where(treatment == 1, "promo", "control")
    return data.Experiment(
        features,
        [f"x{i}" for i in range(4)],
        arms,
        synthetic_outcome if outcome is None else outcome,
        "y",
        "control",
        True,
    )


def test_evaluate_reports_every_model_and_the_choice_made_on_validation():
    report = evaluate(_experiment(), seed=3, repeats=2)
    assert report["split"] == {"train": 0.7, "test": 0.3, "validation": 0.25, "seed": 3, "repeats": 2}
    result = report["treatments"]["promo"]
    assert set(result["models"]) == {"t_learner", "class_transformation", "x_learner"}
    assert sum(result["chosen"].values()) == 2 and result["model"] in result["models"]
    assert result["rows"] == {"train": 2100, "test": 900}
    # The pattern is strong: every model finds it on the held-out rows, in both repeats.
    for figures in result["models"].values():
        assert figures["qini"] > 0.1 and figures["uplift_at"]["10"] > figures["uplift_at"]["30"] > 0
        assert set(figures["uplift_at_sd"]) == {"10", "20", "30"} and figures["qini_sd"] >= 0
    text = format_report(report)
    assert "*" + result["model"] in text and "promo" in text and "2 seeds: mean ± sd" in text


def test_the_test_rows_never_influence_the_choice():
    experiment = _experiment()
    _, treatment, outcome = data.pair(experiment, "promo")
    _, test = data.stratified_split(treatment, outcome, 0.3, 11)
    # Shuffle the features among the test rows only: the split (by treatment and outcome) and the
    # training rows are unchanged, the test rows become noise.
    shuffled = experiment.features.copy()
    shuffled[test] = shuffled[np.random.default_rng(0).permutation(test)]
    noisy = data.Experiment(
        shuffled, *[getattr(experiment, f) for f in ("feature_names", "arms", "outcome")], "y", "control", True
    )
    before = evaluate(experiment, seed=11)["treatments"]["promo"]
    after = evaluate(noisy, seed=11)["treatments"]["promo"]
    assert after["chosen"] == before["chosen"]
    assert [m["validation_qini"] for m in after["models"].values()] == [
        m["validation_qini"] for m in before["models"].values()
    ]
    assert before["qini"] > 0.1 and abs(after["qini"]) < 0.05


def test_constant_outcome_is_refused():
    with pytest.raises(data.InputError, match="constant"):
        evaluate(_experiment(outcome=np.zeros(3000)))
    assert math.isfinite(evaluate(_experiment(), repeats=1)["treatments"]["promo"]["auuc"])
