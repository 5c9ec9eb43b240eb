"""The logistic T-learner whose weights serving reads as numbers, and the pure modules' independence from Django."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from promotions.uplift.linear import LinearUplift, fit_and_evaluate
from promotions.uplift.metrics import qini_auc_score
from tests.uplift.conftest import synthetic_experiment

ROOT = Path(__file__).resolve().parents[2]


def test_the_linear_t_learner_finds_the_persuadables_and_survives_json():
    features, treatment, outcome, true_uplift = synthetic_experiment(n=4000, seed=3)
    features[::7, 1] = np.nan  # missing values are filled, not fatal
    names = ["x0", "x1", "x2", "x3"]
    model = LinearUplift.fit(features, treatment, outcome, names)
    predicted = model.predict_uplift(features)
    assert predicted[true_uplift > 0].mean() > predicted[true_uplift <= 0].mean() + 0.15
    restored = LinearUplift.from_dict(model.to_dict())
    assert np.array_equal(restored.predict_uplift(features), predicted)
    with pytest.raises(ValueError, match="constant"):
        LinearUplift.fit(features, treatment, np.zeros(len(outcome)), names)


def test_fit_and_evaluate_scores_on_held_out_rows_and_refits_on_all():
    features, treatment, outcome, _ = synthetic_experiment(n=3000, seed=5)
    trained = fit_and_evaluate(features, treatment, outcome, ["x0", "x1", "x2", "x3"], seed=0)
    assert (trained.n_treated, trained.n_control) == (int(treatment.sum()), int((1 - treatment).sum()))
    # A linear model of a step (persuadables above x0 = 0.5) ranks well short of perfect, far above random.
    random_qini = qini_auc_score(outcome, np.random.default_rng(0).random(outcome.size), treatment)
    assert trained.qini > 0.05 and trained.auuc > 0.05 and abs(random_qini) < 0.03
    refit = LinearUplift.fit(features, treatment, outcome, ["x0", "x1", "x2", "x3"])
    assert np.allclose(trained.model.predict_uplift(features), refit.predict_uplift(features))


def test_the_pure_modules_import_without_django():
    code = (
        "import sys; sys.modules['django'] = None\n"
        "import promotions.uplift.data, promotions.uplift.evaluate, promotions.uplift.features\n"
        "import promotions.uplift.linear, promotions.uplift.metrics\n"
        "import promotions.uplift.learners, promotions.uplift.policy\n"
        "assert not any(name.split('.')[0] == 'django' for name in sys.modules if sys.modules[name])"
    )
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, timeout=60, cwd=ROOT)
