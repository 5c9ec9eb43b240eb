"""Train and evaluate uplift models on a logged experiment: splits, model choice, repeated figures.

For each treatment against the control: the rows are split into train and test, stratified by
treatment and outcome and fixed by the seed; the training part is split again into a fitting and a
validation fold, on which every model is scored (Qini coefficient) to choose the best; every model
is then refitted on the whole training part and scored on the test part. The test part never
influences the choice. With ``repeats`` the whole procedure is redone for seeds seed, seed+1, ...
``evaluate_with_curves`` also returns the Qini and uplift curves of the reported model on the test
part of the first split, for the admin's charts.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np

from .data import Experiment, InputError, pair, stratified_split
from .learners import UpliftModel, binary_models, continuous_models
from .metrics import CURVE_POINTS, DEFAULT_KS, qini_auc_score, qini_curve, thin_curve, uplift_curve, uplift_figures

DEFAULT_VALIDATION_SIZE = 0.25


def candidate_models(binary: bool, seed: int = 0) -> dict[str, UpliftModel]:
    return binary_models(seed) if binary else continuous_models(seed)


def choose_model(
    features: np.ndarray,
    treatment: np.ndarray,
    outcome: np.ndarray,
    binary: bool,
    seed: int = 0,
    validation_size: float = DEFAULT_VALIDATION_SIZE,
) -> tuple[str, dict[str, float]]:
    """The model with the best Qini coefficient on a validation fold of these rows, and every score."""
    fit, validation = stratified_split(treatment, outcome, validation_size, seed)
    scores = {}
    for name, model in candidate_models(binary, seed).items():
        model.fit(features[fit], treatment[fit], outcome[fit])
        score = qini_auc_score(outcome[validation], model.predict_uplift(features[validation]), treatment[validation])
        scores[name] = score if math.isfinite(score) else -math.inf
    return max(scores, key=scores.__getitem__), scores


def fit_best(
    features: np.ndarray,
    treatment: np.ndarray,
    outcome: np.ndarray,
    binary: bool,
    seed: int = 0,
    validation_size: float = DEFAULT_VALIDATION_SIZE,
) -> tuple[str, UpliftModel]:
    """Choose a model on a validation fold, then fit it on all these rows: what serving uses."""
    name, _ = choose_model(features, treatment, outcome, binary, seed, validation_size)
    return name, candidate_models(binary, seed)[name].fit(features, treatment, outcome)


def _check_outcome_varies(outcome: np.ndarray, treatment: np.ndarray, name: str) -> None:
    for flag, group in ((1, "treated"), (0, "control")):
        if np.unique(outcome[treatment == flag]).size < 2:
            raise InputError(f"the outcome is constant among the {group} rows of {name!r}: no uplift to learn")


def _one_split(features, treatment, outcome, binary, seed, test_size, validation_size, ks) -> dict[str, Any]:
    train, test = stratified_split(treatment, outcome, test_size, seed)
    chosen, validation_scores = choose_model(
        features[train], treatment[train], outcome[train], binary, seed, validation_size
    )
    figures, scores = {}, {}
    for name, model in candidate_models(binary, seed).items():
        model.fit(features[train], treatment[train], outcome[train])
        scores[name] = model.predict_uplift(features[test])
        figures[name] = uplift_figures(outcome[test], scores[name], treatment[test], ks)
    return {
        "chosen": chosen,
        "validation": validation_scores,
        "figures": figures,
        "rows": (train.size, test.size),
        "test": test,
        "scores": scores,
    }


def _curve_points(x: np.ndarray, y: np.ndarray, max_points: int) -> dict[str, list[float]]:
    x, y = thin_curve(x, y, max_points)
    return {"x": [_clean(value) for value in x], "y": [_clean(value) for value in y]}


def _test_curves(run: dict[str, Any], model: str, treatment, outcome, max_points: int) -> dict[str, Any]:
    """The Qini and uplift curves of one model's ranking of a split's test rows, thinned."""
    test = run["test"]
    ranked = (outcome[test], run["scores"][model], treatment[test])
    return {
        "qini": _curve_points(*qini_curve(*ranked), max_points),
        "uplift": _curve_points(*uplift_curve(*ranked), max_points),
    }


def _clean(value: float) -> float | None:
    """JSON has no NaN: an undefined figure (no control row among the top k, say) is null."""
    return round(float(value), 6) if math.isfinite(value) else None


def _summary(runs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Mean and standard deviation over repeats of figures shaped like ``uplift_figures``."""

    def mean_sd(values: list[float]) -> tuple[float | None, float | None]:
        values = np.array([value for value in values if math.isfinite(value)])
        if values.size == 0:
            return None, None
        return _clean(values.mean()), _clean(values.std(ddof=1) if values.size > 1 else 0.0)

    qini, qini_sd = mean_sd([run["qini"] for run in runs])
    auuc, auuc_sd = mean_sd([run["auuc"] for run in runs])
    uplift_at, uplift_at_sd = {}, {}
    for key in runs[0]["uplift_at"]:
        uplift_at[key], uplift_at_sd[key] = mean_sd([run["uplift_at"][key] for run in runs])
    return {
        "qini": qini,
        "qini_sd": qini_sd,
        "auuc": auuc,
        "auuc_sd": auuc_sd,
        "uplift_at": uplift_at,
        "uplift_at_sd": uplift_at_sd,
    }


def evaluate(
    experiment: Experiment,
    seed: int = 42,
    test_size: float = 0.3,
    repeats: int = 1,
    validation_size: float = DEFAULT_VALIDATION_SIZE,
    ks: Sequence[float] = DEFAULT_KS,
) -> dict[str, Any]:
    """The report of the ``promotions_uplift`` command (its JSON), for every treatment vs the control.

    Per treatment, the top-level figures are those of the model chosen on validation in each
    repeat (mean and sd over repeats, so they include the cost of choosing); ``model`` is the one
    chosen most often, ``chosen`` counts the choices, and ``models`` holds every model's figures.
    """
    return evaluate_with_curves(experiment, seed, test_size, repeats, validation_size, ks)[0]


def evaluate_with_curves(
    experiment: Experiment,
    seed: int = 42,
    test_size: float = 0.3,
    repeats: int = 1,
    validation_size: float = DEFAULT_VALIDATION_SIZE,
    ks: Sequence[float] = DEFAULT_KS,
    max_points: int = CURVE_POINTS,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """``evaluate``'s report, and per treatment the curves of its reported model on held-out rows.

    The curves are those of the first split (``seed``): ``{"<treatment>": {"model", "seed", "test",
    "qini": {"x", "y"}, "uplift": {"x", "y"}}}``, x counting the test customers targeted, at most
    ``max_points`` points each.
    """
    if not 0 < test_size < 1 or not 0 < validation_size < 1:
        raise InputError("the test and validation sizes must be shares between 0 and 1")
    if repeats < 1:
        raise InputError("repeats must be at least 1")
    treatments, curves = {}, {}
    for treatment_name in experiment.treatments:
        features, treatment, outcome = pair(experiment, treatment_name)
        _check_outcome_varies(outcome, treatment, treatment_name)
        runs = [
            _one_split(features, treatment, outcome, experiment.binary, seed + r, test_size, validation_size, ks)
            for r in range(repeats)
        ]
        choices = Counter(run["chosen"] for run in runs)
        names = list(runs[0]["figures"])
        best = max(names, key=lambda name: (choices[name], -names.index(name)))
        curves[treatment_name] = {
            "model": best,
            "seed": seed,
            "test": int(runs[0]["test"].size),
            **_test_curves(runs[0], best, treatment, outcome, max_points),
        }
        treatments[treatment_name] = {
            "model": best,
            **_summary([run["figures"][run["chosen"]] for run in runs]),
            "chosen": {name: choices[name] for name in names},
            "rows": {"train": runs[0]["rows"][0], "test": runs[0]["rows"][1]},
            "models": {
                name: {
                    **_summary([run["figures"][name] for run in runs]),
                    "validation_qini": _clean(np.mean([run["validation"][name] for run in runs])),
                }
                for name in names
            },
        }
    report = {
        "outcome": experiment.outcome_name,
        "outcome_kind": "binary" if experiment.binary else "continuous",
        "control": experiment.control,
        "features": experiment.feature_names,
        "split": {
            "train": round(1 - test_size, 6),
            "test": test_size,
            "validation": validation_size,
            "seed": seed,
            "repeats": repeats,
        },
        "treatments": treatments,
    }
    return report, curves


def _number(value: float | None, sd: float | None = None) -> str:
    if value is None:
        return "n/a"
    return f"{value:.4f}" if sd is None else f"{value:.4f} ± {sd:.4f}"


def format_report(report: dict[str, Any]) -> str:
    """A plain-text table: one line per treatment and model, the chosen model marked with *."""
    split = report["split"]
    spread = split["repeats"] > 1  # a single split has no standard deviation to show

    def cell(figures: dict[str, Any], name: str, key: str | None = None) -> str:
        value, sd = (
            (figures[name], figures[f"{name}_sd"]) if key is None else (figures[name][key], figures[f"{name}_sd"][key])
        )
        return _number(value, sd if spread else None)

    keys = list(next(iter(report["treatments"].values()))["uplift_at"]) if report["treatments"] else []
    lines = [
        f"Uplift on {report['outcome']} ({report['outcome_kind']}) vs {report['control']!r}: "
        f"test share {split['test']}, seed {split['seed']}"
        + (f", {split['repeats']} seeds: mean ± sd" if spread else ""),
        "  ".join([f"{'treatment':<22}", f"{'model':<22}", f"{'qini':>17}", f"{'auuc':>17}"])
        + "".join(f"  {'uplift@' + key + '%':>17}" for key in keys),
    ]
    for name, result in report["treatments"].items():
        for model, figures in result["models"].items():
            mark = "*" if model == result["model"] else " "
            cells = [f"{name[:22]:<22}", f"{mark}{model:<21}"]
            cells += [f"{cell(figures, 'qini'):>17}", f"{cell(figures, 'auuc'):>17}"]
            cells += [f"{cell(figures, 'uplift_at', k):>17}" for k in keys]
            lines.append("  ".join(cells))
        chosen = ", ".join(f"{model} {count}x" for model, count in result["chosen"].items() if count)
        lines.append(
            f"{'':<22}  {'chosen on validation':<22}  {cell(result, 'qini'):>17}  {cell(result, 'auuc'):>17}"
            + "".join(f"  {cell(result, 'uplift_at', k):>17}" for k in keys)
            + f"  ({chosen})"
        )
    return "\n".join(lines)
