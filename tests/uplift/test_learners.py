"""Every uplift model ranks the true persuadables of a synthetic experiment first and the sleeping dogs last."""

import numpy as np
import pytest

from promotions.uplift import learners as models
from promotions.uplift.metrics import qini_auc_score

from .conftest import synthetic_experiment


def _check_ranking(predicted: np.ndarray, true_uplift: np.ndarray) -> None:
    top = np.argsort(-predicted)[: int(0.2 * predicted.size)]
    bottom = np.argsort(predicted)[: int(0.05 * predicted.size)]
    # 31% of customers are persuadables: a model that learned the pattern fills the top 20% with them.
    assert (true_uplift[top] > 0).mean() > 0.9
    assert (true_uplift[bottom] < 0).mean() > 0.5
    assert predicted[true_uplift > 0].mean() > predicted[true_uplift == 0].mean() > predicted[true_uplift < 0].mean()


@pytest.mark.parametrize("name", ["t_learner", "class_transformation", "x_learner"])
def test_binary_models_rank_persuadables_first(name):
    features, treatment, outcome, true_uplift = synthetic_experiment(n=6000, seed=1)
    model = models.binary_models(seed=0)[name].fit(features[:4000], treatment[:4000], outcome[:4000])
    predicted = model.predict_uplift(features[4000:])
    _check_ranking(predicted, true_uplift[4000:])
    # Persuadables' true uplift is 0.3: the estimate is on the right scale, not just the right order.
    assert 0.15 < predicted[true_uplift[4000:] > 0].mean() < 0.45


@pytest.mark.parametrize("name", ["t_learner", "s_learner"])
def test_spend_models_rank_persuadables_first(name):
    features, treatment, outcome, true_uplift = synthetic_experiment(n=6000, seed=2, spend=True)
    model = models.continuous_models(seed=0)[name].fit(features[:4000], treatment[:4000], outcome[:4000])
    predicted = model.predict_uplift(features[4000:])
    _check_ranking(predicted, true_uplift[4000:])
    assert qini_auc_score(outcome[4000:], predicted, treatment[4000:]) > 0.1


def test_class_transformation_handles_an_unbalanced_split():
    features, treatment, outcome, true_uplift = synthetic_experiment(n=8000, seed=3)
    # Keep a quarter of the control rows: 80% treated. Unweighted, 2 P(z=1) - 1 would be biased upwards.
    keep = (treatment == 1) | (np.arange(treatment.size) % 4 == 0)
    model = models.ClassTransformation(models.default_classifier()).fit(features[keep], treatment[keep], outcome[keep])
    predicted = model.predict_uplift(features)
    assert abs(predicted[true_uplift == 0].mean()) < 0.08
    assert predicted[true_uplift > 0].mean() > 0.15


def test_models_refuse_one_group_only_and_class_transformation_a_continuous_outcome():
    features, treatment, outcome, _ = synthetic_experiment(n=200)
    with pytest.raises(ValueError, match="both treated and control"):
        models.TLearner(models.default_classifier()).fit(features, np.ones(200), outcome)
    with pytest.raises(ValueError, match="binary"):
        models.ClassTransformation(models.default_classifier()).fit(features, treatment, outcome * 3.5)


def test_class_transformation_near_50_50_is_the_plain_transformation():
    features, _, outcome, _ = synthetic_experiment(n=2000, seed=6)
    treatment = np.arange(2000) % 2
    model = models.ClassTransformation(models.default_classifier()).fit(features, treatment, outcome)
    plain = models.default_classifier()().fit(features, (treatment == outcome).astype(int))
    assert np.allclose(model.predict_uplift(features), 2 * plain.predict_proba(features)[:, 1] - 1)
