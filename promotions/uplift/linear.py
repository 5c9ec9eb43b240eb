"""A T-learner of two logistic regressions whose fitted weights are plain numbers.

The promotion ranking scores visitors in the web process, where loading scikit-learn (and
unpickling its estimators) costs more than the page. So the model is trained with scikit-learn in a
worker and kept as numbers: the value that fills a missing feature, the standardization, and each
regression's coefficients and intercept; ``predict_uplift`` is then a few numpy operations, and
``to_dict``/``from_dict`` store it as JSON.

Uplift here is P(purchase | shown) - P(purchase | withheld): an incremental conversion probability.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

#: Inverse regularization strength of both regressions (scikit-learn's default): the features are
#: standardized, and a few hundred visitors per arm do not support weaker regularization.
REGULARIZATION = 1.0


def _sigmoid(values: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(values, -35.0, 35.0)))


@dataclass(frozen=True)
class LinearUplift:
    """Fill values for missing features, the scaling, and both regressions' weights, by feature name."""

    names: tuple[str, ...]
    fill: tuple[float, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    treated_coef: tuple[float, ...]
    treated_intercept: float
    control_coef: tuple[float, ...]
    control_intercept: float

    @classmethod
    def fit(
        cls, features: np.ndarray, treatment: np.ndarray, outcome: np.ndarray, names: Sequence[str]
    ) -> LinearUplift:
        """Fit on one row per visitor: 0/1 treatment (shown), 0/1 outcome (bought).

        A missing value (recency of a visitor without history) is filled with the column's largest
        value plus one, i.e. "longer ago than anyone seen": such a visitor is the least recent.
        """
        from sklearn.linear_model import LogisticRegression  # training only: the web process never loads it

        features = np.asarray(features, dtype=float)
        treated = np.asarray(treatment).astype(bool)
        outcome = np.asarray(outcome).astype(int)
        if features.ndim != 2 or features.shape[1] != len(names):
            raise ValueError("features need one column per name")
        if not (len(features) == treated.size == outcome.size):
            raise ValueError("features, treatment and outcome must have the same number of rows")
        for group, label in ((treated, "shown"), (~treated, "withheld")):
            if np.unique(outcome[group]).size < 2:
                raise ValueError(f"the outcome is constant among the {label} visitors: no uplift to learn")
        column_max = np.nanmax(np.where(np.isnan(features), -np.inf, features), axis=0)
        fill = np.where(np.isfinite(column_max), column_max + 1.0, 0.0)
        filled = np.where(np.isnan(features), fill, features)
        mean = filled.mean(axis=0)
        scale = filled.std(axis=0)
        scale = np.where(scale > 0, scale, 1.0)
        standardized = (filled - mean) / scale
        weights = {}
        for key, group in (("treated", treated), ("control", ~treated)):
            model = LogisticRegression(C=REGULARIZATION, max_iter=1000).fit(standardized[group], outcome[group])
            weights[key] = (tuple(float(v) for v in model.coef_[0]), float(model.intercept_[0]))
        return cls(
            tuple(names),
            tuple(float(v) for v in fill),
            tuple(float(v) for v in mean),
            tuple(float(v) for v in scale),
            weights["treated"][0],
            weights["treated"][1],
            weights["control"][0],
            weights["control"][1],
        )

    def _standardized(self, features: np.ndarray) -> np.ndarray:
        features = np.asarray(features, dtype=float)
        if features.ndim != 2 or features.shape[1] != len(self.names):
            raise ValueError(f"expected {len(self.names)} feature columns, got {features.shape}")
        filled = np.where(np.isnan(features), np.asarray(self.fill), features)
        return (filled - np.asarray(self.mean)) / np.asarray(self.scale)

    def predict_uplift(self, features: np.ndarray) -> np.ndarray:
        """P(buy | shown) - P(buy | withheld) per row."""
        standardized = self._standardized(features)
        treated = _sigmoid(standardized @ np.asarray(self.treated_coef) + self.treated_intercept)
        control = _sigmoid(standardized @ np.asarray(self.control_coef) + self.control_intercept)
        return treated - control

    @property
    def categories(self) -> list[str]:
        """The category columns it was trained with, so serving builds the same features."""
        return [name.split("=", 1)[1] for name in self.names if name.startswith("category=")]

    def to_dict(self) -> dict[str, Any]:
        return {
            "names": list(self.names),
            "fill": list(self.fill),
            "mean": list(self.mean),
            "scale": list(self.scale),
            "treated": {"coef": list(self.treated_coef), "intercept": self.treated_intercept},
            "control": {"coef": list(self.control_coef), "intercept": self.control_intercept},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LinearUplift:
        return cls(
            tuple(data["names"]),
            tuple(data["fill"]),
            tuple(data["mean"]),
            tuple(data["scale"]),
            tuple(data["treated"]["coef"]),
            float(data["treated"]["intercept"]),
            tuple(data["control"]["coef"]),
            float(data["control"]["intercept"]),
        )


@dataclass(frozen=True)
class TrainedUplift:
    """The model refitted on every row, and the figures of its fit on the training part, on the test part."""

    model: LinearUplift
    n_treated: int
    n_control: int
    qini: float
    auuc: float


def fit_and_evaluate(
    features: np.ndarray,
    treatment: np.ndarray,
    outcome: np.ndarray,
    names: Sequence[str],
    seed: int = 0,
    test_size: float = 0.3,
) -> TrainedUplift:
    """Fit on a stratified training part, score the Qini coefficient and AUUC on the held-out part,
    then refit on every row for serving (the figures say how well this kind of fit ranks)."""
    from .data import stratified_split
    from .metrics import qini_auc_score, uplift_auc_score

    treatment = np.asarray(treatment).astype(int)
    outcome = np.asarray(outcome).astype(float)
    train, test = stratified_split(treatment, outcome, test_size, seed)
    scores = LinearUplift.fit(features[train], treatment[train], outcome[train], names).predict_uplift(features[test])
    return TrainedUplift(
        model=LinearUplift.fit(features, treatment, outcome, names),
        n_treated=int(treatment.sum()),
        n_control=int((1 - treatment).sum()),
        qini=qini_auc_score(outcome[test], scores, treatment[test]),
        auuc=uplift_auc_score(outcome[test], scores, treatment[test]),
    )
