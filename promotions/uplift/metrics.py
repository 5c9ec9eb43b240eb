"""Uplift metrics: Qini and uplift curves, their normalized areas (Qini coefficient, AUUC) and uplift@k.

The definitions follow scikit-uplift (``sklift.metrics``), so figures can be compared with its
published examples: customers are ranked by predicted uplift (ties kept together), the curves are
evaluated at each distinct score, and each area is taken above the random-targeting diagonal and
divided by the same area of the perfect ranking. scikit-uplift accepts binary outcomes only; for a
continuous outcome (spend) the same formulas are applied, with the perfect ranking that of
``y * t - y * (1 - t)`` for both areas (scikit-uplift's own perfect Qini ranking).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

#: Default shares of the ranked population for uplift@k.
DEFAULT_KS = (0.1, 0.2, 0.3)


def _as_arrays(y_true, uplift, treatment) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    y_true, uplift, treatment = (np.asarray(values, dtype=float) for values in (y_true, uplift, treatment))
    if not (y_true.shape == uplift.shape == treatment.shape) or y_true.ndim != 1:
        raise ValueError("y_true, uplift and treatment must be 1-d arrays of the same length")
    if not np.isin(treatment, (0.0, 1.0)).all():
        raise ValueError("treatment must hold only 0 and 1")
    return y_true, uplift, treatment


def _cumulative_counts(y_true, uplift, treatment):
    """Counts among the top-ranked customers, at the last position of each distinct score."""
    y_true, uplift, treatment = _as_arrays(y_true, uplift, treatment)
    # A stable sort of the reversed order keeps equal scores in file order, as scikit-uplift does.
    order = np.argsort(uplift, kind="mergesort")[::-1]
    y_true, uplift, treatment = y_true[order], uplift[order], treatment[order]
    ends = np.r_[np.flatnonzero(np.diff(uplift)), uplift.size - 1]
    n_treated = np.cumsum(treatment)[ends]
    y_treated = np.cumsum(y_true * treatment)[ends]
    y_control = np.cumsum(y_true * (1 - treatment))[ends]
    n_all = (ends + 1).astype(float)
    return n_all, n_treated, n_all - n_treated, y_treated, y_control


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    return np.divide(numerator, denominator, out=np.zeros_like(numerator), where=denominator != 0)


def _from_origin(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if x.size == 0 or x[0] != 0 or y[0] != 0:
        return np.r_[0.0, x], np.r_[0.0, y]
    return x, y


def uplift_curve(y_true, uplift, treatment) -> tuple[np.ndarray, np.ndarray]:
    """x: customers targeted; y: (treated rate - control rate) among them, times x."""
    n_all, n_treated, n_control, y_treated, y_control = _cumulative_counts(y_true, uplift, treatment)
    values = (_ratio(y_treated, n_treated) - _ratio(y_control, n_control)) * n_all
    return _from_origin(n_all, values)


def qini_curve(y_true, uplift, treatment) -> tuple[np.ndarray, np.ndarray]:
    """x: customers targeted; y: treated responses minus control responses scaled to the treated count."""
    n_all, n_treated, n_control, y_treated, y_control = _cumulative_counts(y_true, uplift, treatment)
    values = y_treated - y_control * _ratio(n_treated, n_control)
    return _from_origin(n_all, values)


def _perfect_scores(y_true: np.ndarray, treatment: np.ndarray) -> np.ndarray:
    """Treated responders first (largest first), then non-responders, then control responders."""
    return y_true * treatment - y_true * (1 - treatment)


def _is_binary(values: np.ndarray) -> bool:
    return bool(np.isin(values, (0.0, 1.0)).all())


def perfect_uplift_curve(y_true, treatment) -> tuple[np.ndarray, np.ndarray]:
    y_true, _, treatment = _as_arrays(y_true, treatment, treatment)
    if not _is_binary(y_true):
        return uplift_curve(y_true, _perfect_scores(y_true, treatment), treatment)
    control_responders = np.sum((y_true == 1) & (treatment == 0))
    treated_non_responders = np.sum((y_true == 0) & (treatment == 1))
    # scikit-uplift's perfect ranking: the larger of these two groups goes last.
    summand = y_true if control_responders > treated_non_responders else treatment
    return uplift_curve(y_true, 2 * (y_true == treatment) + summand, treatment)


def perfect_qini_curve(y_true, treatment) -> tuple[np.ndarray, np.ndarray]:
    y_true, _, treatment = _as_arrays(y_true, treatment, treatment)
    return qini_curve(y_true, _perfect_scores(y_true, treatment), treatment)


def _normalized_area(actual, perfect) -> float:
    """Area above the diagonal to the curve's end point, over the perfect curve's."""
    x_perfect, y_perfect = perfect
    baseline = np.trapezoid([0.0, y_perfect[-1]], [0.0, x_perfect[-1]])
    perfect_area = np.trapezoid(y_perfect, x_perfect) - baseline
    actual_area = np.trapezoid(actual[1], actual[0]) - baseline
    return float(actual_area / perfect_area) if perfect_area != 0 else float("nan")


def qini_auc_score(y_true, uplift, treatment) -> float:
    """The Qini coefficient, normalized by the perfect Qini curve (with negative effects)."""
    return _normalized_area(qini_curve(y_true, uplift, treatment), perfect_qini_curve(y_true, treatment))


def uplift_auc_score(y_true, uplift, treatment) -> float:
    """AUUC: the area under the uplift curve, normalized by the perfect uplift curve."""
    return _normalized_area(uplift_curve(y_true, uplift, treatment), perfect_uplift_curve(y_true, treatment))


def uplift_at_k(y_true, uplift, treatment, k: float = 0.3) -> float:
    """Treated minus control outcome rate among the top ``k`` share of everyone, ranked by uplift.

    scikit-uplift's ``overall`` strategy: the top ``int(n * k)`` customers, whatever their group.
    NaN when that top holds no treated or no control customer.
    """
    y_true, uplift, treatment = _as_arrays(y_true, uplift, treatment)
    if not 0 < k < 1:
        raise ValueError(f"k must be a share in (0, 1), got {k}")
    top = np.argsort(uplift, kind="mergesort")[::-1][: int(y_true.size * k)]
    treated = treatment[top] == 1
    if treated.all() or not treated.any():
        return float("nan")
    return float(y_true[top][treated].mean() - y_true[top][~treated].mean())


def uplift_figures(y_true, uplift, treatment, ks: Sequence[float] = DEFAULT_KS) -> dict:
    """Qini coefficient, AUUC and uplift@k (keys "10", "20", ... in percent) of one ranking."""
    return {
        "qini": qini_auc_score(y_true, uplift, treatment),
        "auuc": uplift_auc_score(y_true, uplift, treatment),
        "uplift_at": {f"{round(k * 100)}": uplift_at_k(y_true, uplift, treatment, k) for k in ks},
    }


#: Points kept per curve for storage and drawing: enough for a smooth line at any screen width.
CURVE_POINTS = 200


def thin_curve(x, y, max_points: int = CURVE_POINTS) -> tuple[np.ndarray, np.ndarray]:
    """At most ``max_points`` points of a curve, the first and the last always kept.

    Each kept point is the first one at or past an evenly spaced position along x, so the points
    stay spread over the whole population even where many customers share one score.
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if max_points < 2:
        raise ValueError("a curve needs at least 2 points")
    if x.size <= max_points:
        return x, y
    targets = np.linspace(x[0], x[-1], max_points)
    kept = np.unique(np.r_[0, np.minimum(np.searchsorted(x, targets), x.size - 1), x.size - 1])
    return x[kept], y[kept]
