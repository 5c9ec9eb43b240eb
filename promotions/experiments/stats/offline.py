"""Offline analysis of a logged A/B test from a CSV file: reading, validation and the report.

Kept free of Django so that the ``promotions_analyze_ab`` command only parses arguments and
prints. Every problem with the input raises ``InputError`` with one line saying what is wrong.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from promotions.csvinput import InputError, numeric, read_columns
from promotions.experiments.stats import inference as stats

METHODS = ("frequentist", "bayesian", "sequential")
DEFAULT_CONTROL = "control"


@dataclass(frozen=True)
class ExperimentData:
    """One row per unit: its group, metric value, optional covariate and optional day number."""

    groups: np.ndarray
    metric: np.ndarray
    covariate: np.ndarray | None
    days: np.ndarray | None


# --- reading and validation -----------------------------------------------------------------------


def _day_numbers(values: list[str], column: str) -> np.ndarray:
    """Calendar days of ISO dates or date-times, else whole parts of numbers (day indexes)."""
    try:
        return np.array([datetime.fromisoformat(value.strip()).date().toordinal() for value in values])
    except ValueError:
        pass
    try:
        return np.floor(numeric(values, column)).astype(np.int64)
    except InputError:
        raise InputError(f"column {column!r} holds neither ISO dates nor numbers") from None


def load_experiment(
    path: str | Path,
    group_col: str,
    metric_col: str,
    covariate_col: str | None = None,
    time_col: str | None = None,
) -> ExperimentData:
    """Read the needed columns of a CSV file (``.gz`` is decompressed) and check their values."""
    names = [name for name in (group_col, metric_col, covariate_col, time_col) if name]
    columns = read_columns(path, list(dict.fromkeys(names)))
    return ExperimentData(
        groups=np.array(columns[group_col]),
        metric=numeric(columns[metric_col], metric_col),
        covariate=numeric(columns[covariate_col], covariate_col) if covariate_col else None,
        days=_day_numbers(columns[time_col], time_col) if time_col else None,
    )


def parse_weights(text: str) -> dict[str, float]:
    """Parse ``name=weight,name=weight`` (any positive scale) into a mapping."""
    weights = {}
    for part in text.split(","):
        name, separator, value = part.partition("=")
        try:
            weight = float(value)
        except ValueError:
            weight = math.nan
        if not separator or not name.strip() or not (math.isfinite(weight) and weight > 0):
            raise InputError(f"bad --weights {text!r}: expected name=positive number pairs separated by commas")
        weights[name.strip()] = weight
    return weights


def _ordered_groups(data: ExperimentData, group_col: str, control: str | None) -> list[str]:
    """The control first, then the other groups in sorted order."""
    names = sorted(set(data.groups.tolist()))
    if len(names) < 2:
        raise InputError(f"only one group ({names[0]!r}) in column {group_col!r}: an A/B test needs at least two")
    listed = ", ".join(names)
    if control is None:
        if DEFAULT_CONTROL not in names:
            raise InputError(f"--control is required: no group is named {DEFAULT_CONTROL!r} (groups: {listed})")
        control = DEFAULT_CONTROL
    if control not in names:
        raise InputError(f"control group {control!r} not found in column {group_col!r} (groups: {listed})")
    return [control] + [name for name in names if name != control]


def _design_weights(groups: list[str], weights: dict[str, float] | None) -> list[float]:
    if weights is None:
        return [1.0] * len(groups)
    if set(weights) != set(groups):
        raise InputError(f"--weights names {sorted(weights)} do not match the groups {sorted(groups)}")
    return [weights[group] for group in groups]


# --- sufficient statistics per group and look -----------------------------------------------------


def _cumulative_sums(data: ExperimentData, groups: list[str]) -> dict[str, np.ndarray]:
    """Sums per group (rows) and daily look (columns), accumulated over the looks.

    Without a time column there is a single look. The sums are the fields of the ``stats``
    dataclasses; accumulating them is what their ``__add__`` does, one day at a time.
    """
    names, name_index = np.unique(data.groups, return_inverse=True)
    group_index = np.array([groups.index(name) for name in names])[name_index]
    days = np.zeros(len(data.metric), dtype=np.int64) if data.days is None else data.days
    _, day_index = np.unique(days, return_inverse=True)
    shape = (len(groups), int(day_index.max()) + 1)
    cell = np.ravel_multi_index((group_index, day_index), shape)
    y = data.metric
    fields = {"n": np.ones_like(y), "sum": y, "sum_squares": y * y}
    if data.covariate is not None:
        x = data.covariate
        fields |= {"covariate_sum": x, "covariate_sum_squares": x * x, "cross_sum": x * y}
    return {
        name: np.bincount(cell, weights=values, minlength=shape[0] * shape[1]).reshape(shape).cumsum(axis=1)
        for name, values in fields.items()
    }


def _arm_stats(
    sums: dict[str, np.ndarray], group: int, look: int, kind: str
) -> stats.ProportionStats | stats.MeanStats | stats.CovariateStats:
    fields = {name: float(values[group, look]) for name, values in sums.items()}
    if kind == "proportion":
        return stats.ProportionStats(fields["n"], fields["sum"])
    if kind == "mean":
        return stats.MeanStats(fields["n"], fields["sum"], fields["sum_squares"])
    return stats.CovariateStats(**fields)


def _summaries(control, treatment, kind: str) -> tuple[Any, Any]:
    """What the tests compare: CUPED-adjusted means when there is a covariate, else the stats."""
    return stats.cuped_adjust(control, treatment) if kind == "cuped" else (control, treatment)


# --- the analysis ---------------------------------------------------------------------------------


def _finite_or_none(value: float) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None


def _compare(
    sums: dict[str, np.ndarray], variant: int, kind: str, method: str, alpha: float
) -> stats.Comparison | stats.BayesianComparison:
    last_look = sums["n"].shape[1] - 1
    control = _arm_stats(sums, 0, last_look, kind)
    treatment = _arm_stats(sums, variant, last_look, kind)
    if method == "bayesian":
        if kind == "proportion":
            return stats.bayesian_proportions(control, treatment, level=1 - alpha)
        return stats.bayesian_means(*_summaries(control, treatment, kind), level=1 - alpha)
    if method == "sequential":
        looks = [
            _summaries(_arm_stats(sums, 0, look, kind), _arm_stats(sums, variant, look, kind), kind)
            for look in range(last_look + 1)
            if min(sums["n"][0, look], sums["n"][variant, look]) >= 2
        ]
        return stats.sequential_test_over_looks(looks, alpha)
    if kind == "proportion":
        return stats.two_proportion_z_test(control, treatment, alpha)
    return stats.welch_t_test(*_summaries(control, treatment, kind), alpha)


def _metric_kind(data: ExperimentData) -> str:
    if data.covariate is not None:
        return "cuped"
    return "proportion" if np.isin(data.metric, (0.0, 1.0)).all() else "mean"


def _comparison_row(
    name: str, control: str, result: stats.Comparison | stats.BayesianComparison, method: str
) -> dict[str, Any]:
    row = {"variant": name, "control": control}
    for field in ("abs_lift", "rel_lift", "ci_low", "ci_high", "rel_ci_low", "rel_ci_high"):
        row[field] = _finite_or_none(getattr(result, field))
    row["p_value"] = None if method == "bayesian" else _finite_or_none(result.p_value)
    row["p_value_adjusted"] = None
    row["chance_to_beat_control"] = _finite_or_none(result.chance_to_beat_control) if method == "bayesian" else None
    return row


def _adjust_p_values(comparisons: list[dict[str, Any]]) -> None:
    """Holm across the variants; undefined p-values take no part and stay undefined."""
    defined = [row for row in comparisons if row["p_value"] is not None]
    for row, adjusted in zip(defined, stats.holm_adjust([row["p_value"] for row in defined]), strict=True):
        row["p_value_adjusted"] = adjusted


def analyze(
    data: ExperimentData,
    metric: str,
    group_col: str,
    control: str | None = None,
    weights: dict[str, float] | None = None,
    method: str = "frequentist",
    alpha: float = stats.DEFAULT_ALPHA,
) -> dict[str, Any]:
    """Compare every group with the control; the result is the command's JSON report."""
    if method not in METHODS:
        raise InputError(f"unknown method {method!r} (choose one of {', '.join(METHODS)})")
    groups = _ordered_groups(data, group_col, control)
    design = _design_weights(groups, weights)
    kind = _metric_kind(data)
    sums = _cumulative_sums(data, groups)
    sizes = sums["n"][:, -1]
    if sizes.min() < 2:
        raise InputError(f"group {groups[int(sizes.argmin())]!r} has fewer than 2 rows")
    with np.errstate(divide="ignore", invalid="ignore"):
        comparisons = [
            _comparison_row(groups[index], groups[0], _compare(sums, index, kind, method, alpha), method)
            for index in range(1, len(groups))
        ]
    if method != "bayesian":
        _adjust_p_values(comparisons)
    srm = stats.sample_ratio_mismatch(sizes, design)
    return {
        "metric": metric,
        "method": method,
        "variants": [
            {"name": group, "n": int(sizes[index]), "mean": float(sums["sum"][index, -1] / sizes[index])}
            for index, group in enumerate(groups)
        ],
        "comparisons": comparisons,
        "srm_p_value": float(srm.p_value),
    }


# --- the text report ------------------------------------------------------------------------------


def _number(value: float | None, digits: int = 6) -> str:
    return "n/a" if value is None else f"{value:.{digits}g}"


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value:+.2%}"


def format_report(report: dict[str, Any]) -> str:
    """The report as a few readable lines: variants, comparisons, and an SRM warning if flagged."""
    lines = [f"Metric {report['metric']!r}, method {report['method']}"]
    lines += [f"  {row['name']}: n={row['n']}, mean={_number(row['mean'])}" for row in report["variants"]]
    for row in report["comparisons"]:
        lines.append(
            f"  {row['variant']} vs {row['control']}: lift {_number(row['abs_lift'])} "
            f"[{_number(row['ci_low'])}, {_number(row['ci_high'])}], relative {_percent(row['rel_lift'])} "
            f"[{_percent(row['rel_ci_low'])}, {_percent(row['rel_ci_high'])}], "
            f"p={_number(row['p_value'], 4)}, Holm p={_number(row['p_value_adjusted'], 4)}, "
            f"chance to beat control={_number(row['chance_to_beat_control'], 4)}"
        )
    lines.append(f"  Sample ratio mismatch p-value: {_number(report['srm_p_value'], 4)}")
    if report["srm_p_value"] < stats.SRM_THRESHOLD:
        lines.append("  WARNING: sample ratio mismatch: the groups' sizes do not match the designed split.")
    return "\n".join(lines)
