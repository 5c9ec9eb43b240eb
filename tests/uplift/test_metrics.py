"""Qini coefficient, AUUC and uplift@k against values computed by hand on six customers.

y = 1 0 1 0 1 0, t = 1 1 0 0 1 0, ranked in file order (scores 0.9 down to 0.4).
Qini curve (treated responders - control responders x n_t/n_c): 0, 1, 1, -1, 0, 0.5, 1; area 2,
the diagonal to (6, 1) has area 3. Perfect Qini ranking (y t - y (1 - t)): points (2, 2), (5, 2),
(6, 1), area 9.5. Qini coefficient (2 - 3) / (9.5 - 3) = -2/13.
Uplift curve ((rate_t - rate_c) x n): 0, 1, 1, -1.5, 0, 5/6, 2; area 7/3, diagonal 6. Perfect
uplift ranking (scikit-uplift's 2 [y = t] + t): points (2, 2), (4, 4), (5, 10/3), (6, 2), area 43/3.
AUUC (7/3 - 6) / (43/3 - 6) = -11/25.
"""

import math

import numpy as np
import pytest

from promotions.uplift import metrics

Y = [1, 0, 1, 0, 1, 0]
T = [1, 1, 0, 0, 1, 0]
SCORES = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4]


def test_qini_curve_by_hand():
    x, y = metrics.qini_curve(Y, SCORES, T)
    assert x.tolist() == [0, 1, 2, 3, 4, 5, 6]
    assert y.tolist() == pytest.approx([0, 1, 1, -1, 0, 0.5, 1])


def test_uplift_curve_by_hand():
    x, y = metrics.uplift_curve(Y, SCORES, T)
    assert x.tolist() == [0, 1, 2, 3, 4, 5, 6]
    assert y.tolist() == pytest.approx([0, 1, 1, -1.5, 0, 5 / 6, 2])


def test_perfect_curves_by_hand():
    assert [v.tolist() for v in metrics.perfect_qini_curve(Y, T)] == [[0, 2, 5, 6], [0, 2, 2, 1]]
    x, y = metrics.perfect_uplift_curve(Y, T)
    assert x.tolist() == [0, 2, 4, 5, 6]
    assert y.tolist() == pytest.approx([0, 2, 4, 10 / 3, 2])


def test_normalized_areas_by_hand():
    assert metrics.qini_auc_score(Y, SCORES, T) == pytest.approx(-2 / 13)
    assert metrics.uplift_auc_score(Y, SCORES, T) == pytest.approx(-11 / 25)


def test_perfect_and_random_rankings_score_one_and_zero():
    perfect = np.array(Y) * np.array(T) - np.array(Y) * (1 - np.array(T))
    assert metrics.qini_auc_score(Y, perfect, T) == pytest.approx(1.0)
    # Equal scores leave only the curve's end point: exactly the diagonal.
    assert metrics.qini_auc_score(Y, [0.5] * 6, T) == pytest.approx(0.0)
    assert metrics.uplift_auc_score(Y, [0.5] * 6, T) == pytest.approx(0.0)


def test_ties_are_evaluated_together():
    # Rows 1 and 2 tie: the curve skips the point between them whatever their order.
    x, y = metrics.qini_curve(Y, [0.9, 0.7, 0.7, 0.6, 0.5, 0.4], T)
    assert x.tolist() == [0, 1, 3, 4, 5, 6]
    assert y.tolist() == pytest.approx([0, 1, -1, 0, 0.5, 1])


def test_uplift_at_k_overall_strategy_by_hand():
    # Top int(6 x 0.5) = 3: treated rows 0, 1 (rate 0.5), control row 2 (rate 1).
    assert metrics.uplift_at_k(Y, SCORES, T, 0.5) == pytest.approx(-0.5)
    # Top 4: treated 0.5, control (rows 2, 3) 0.5.
    assert metrics.uplift_at_k(Y, SCORES, T, 0.7) == pytest.approx(0.0)
    # Top 2 holds no control row: undefined.
    assert math.isnan(metrics.uplift_at_k(Y, SCORES, T, 0.34))
    with pytest.raises(ValueError, match="share"):
        metrics.uplift_at_k(Y, SCORES, T, 1.0)


def test_continuous_outcome_uses_the_same_formulas():
    spend = [10.0, 0.0, 4.0, 0.0, 2.0, 0.0]
    # Top 3: treated mean (10 + 0) / 2 = 5, control 4.
    assert metrics.uplift_at_k(spend, SCORES, T, 0.5) == pytest.approx(1.0)
    perfect = np.array(spend) * np.array(T) - np.array(spend) * (1 - np.array(T))
    assert metrics.qini_auc_score(spend, perfect, T) == pytest.approx(1.0)
    assert metrics.uplift_auc_score(spend, perfect, T) == pytest.approx(1.0)


def test_uplift_figures_keys_and_bad_input():
    figures = metrics.uplift_figures(Y, SCORES, T, ks=(0.5, 0.7))
    assert figures["uplift_at"] == {"50": pytest.approx(-0.5), "70": pytest.approx(0.0)}
    assert figures["qini"] == pytest.approx(-2 / 13)
    with pytest.raises(ValueError, match="treatment"):
        metrics.qini_auc_score(Y, SCORES, [2, 1, 0, 0, 1, 0])
    with pytest.raises(ValueError, match="same length"):
        metrics.qini_auc_score(Y, SCORES[:5], T)


def test_thin_curve_keeps_both_ends_and_spreads_the_points():
    x = np.r_[0, np.arange(1, 1001) ** 2 / 1000.0]  # points crowded near the start
    y = np.sqrt(x)
    thin_x, thin_y = metrics.thin_curve(x, y, max_points=50)
    assert 2 < thin_x.size <= 50 and thin_x[0] == 0 and thin_x[-1] == x[-1]
    assert np.all(np.diff(thin_x) > 0) and np.allclose(thin_y, np.sqrt(thin_x))  # original points only
    # Evenly spread along x: no gap much wider than an even share of the range.
    assert np.diff(thin_x).max() < 2 * x[-1] / 49
    short_x, _ = metrics.thin_curve(x[:10], y[:10], max_points=50)
    assert short_x.tolist() == x[:10].tolist()
    with pytest.raises(ValueError, match="at least 2"):
        metrics.thin_curve(x, y, max_points=1)
