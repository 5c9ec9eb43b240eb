"""Freeze reference figures for the Hillstrom e-mail experiment into hillstrom_reference.json.

Computed independently of ``promotions.experiments.stats.inference``: pandas reads the raw rows, statsmodels
and scipy compute the tests, the relative-lift intervals use the delta method on the log ratio in matrix form (for the
proportions statsmodels' ``confint_proportions_2indep(compare="ratio", method="log")`` is checked
to agree), and
the Bayesian figures use Evan Miller's closed-form sum instead of integration or sampling.

Run from the repository root:  .venv/bin/python tests/experiments/make_reference.py [DATASETS_DIR]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import special
from scipy import stats as scipy_stats
from statsmodels.stats.gof import chisquare
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest
from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

ALPHA = 0.05
CONTROL = "No E-Mail"
TREATMENTS = ("Mens E-Mail", "Womens E-Mail")
PROPORTION_METRICS = ("visit", "conversion")
MEAN_METRICS = ("spend",)
OUTPUT = Path(__file__).with_name("hillstrom_reference.json")
# A close call, so that chance to beat control and expected loss are far from 1 and 0.
CLOSE_CASE = {"control": {"n": 5000, "successes": 100}, "treatment": {"n": 5000, "successes": 112}}


def log_ratio_relative_ci(mean_c, var_c, n_c, mean_t, var_t, n_t, critical):
    """Relative lift t/c - 1 with a log-ratio interval: the delta method on log(t) - log(c) in
    matrix form (gradient' * covariance * gradient), the bounds exponentiated."""
    gradient = np.array([-1 / mean_c, 1 / mean_t])
    covariance = np.diag([var_c / n_c, var_t / n_t])
    se = float(np.sqrt(gradient @ covariance @ gradient))
    log_ratio = np.log(mean_t) - np.log(mean_c)
    return mean_t / mean_c - 1, np.expm1(log_ratio - critical * se), np.expm1(log_ratio + critical * se)


def prob_b_beats_a(alpha_a, beta_a, alpha_b, beta_b):
    """P(B > A) for independent Beta variables, alpha_b a whole number (Evan Miller's formula)."""
    i = np.arange(int(alpha_b))
    log_terms = (
        special.betaln(alpha_a + i, beta_a + beta_b)
        - np.log(beta_b + i)
        - special.betaln(1 + i, beta_b)
        - special.betaln(alpha_a, beta_a)
    )
    return float(np.exp(log_terms).sum())


def bayesian_reference(n_c, s_c, n_t, s_t):
    """Uniform priors; expected loss of shipping the treatment: E[max(c - t, 0)]."""
    a_c, b_c, a_t, b_t = 1 + s_c, 1 + n_c - s_c, 1 + s_t, 1 + n_t - s_t
    mean_c, mean_t = a_c / (a_c + b_c), a_t / (a_t + b_t)
    # E[c 1{c > t}] = mean_c P(c' > t) with c' ~ Beta(a_c + 1, b_c); likewise for t.
    c_above_t_weighted = 1 - prob_b_beats_a(a_c + 1, b_c, a_t, b_t)
    t_weighted_below_c = 1 - prob_b_beats_a(a_c, b_c, a_t + 1, b_t)
    t_above_c_weighted = prob_b_beats_a(a_c, b_c, a_t + 1, b_t)
    c_weighted_below_t = prob_b_beats_a(a_c + 1, b_c, a_t, b_t)
    tails = [ALPHA / 2, 1 - ALPHA / 2]
    return {
        "chance_to_beat_control": prob_b_beats_a(a_c, b_c, a_t, b_t),
        "expected_loss": mean_c * c_above_t_weighted - mean_t * t_weighted_below_c,
        "expected_loss_control": mean_t * t_above_c_weighted - mean_c * c_weighted_below_t,
        "control_credible_interval": [float(special.betaincinv(a_c, b_c, q)) for q in tails],
        "treatment_credible_interval": [float(special.betaincinv(a_t, b_t, q)) for q in tails],
    }


def proportion_reference(control: pd.Series, treatment: pd.Series):
    n_c, s_c, n_t, s_t = len(control), int(control.sum()), len(treatment), int(treatment.sum())
    p_c, p_t = s_c / n_c, s_t / n_t
    z, p_value = proportions_ztest([s_t, s_c], [n_t, n_c])  # pooled variance
    ci_low, ci_high = confint_proportions_2indep(s_t, n_t, s_c, n_c, method="wald", compare="diff", alpha=ALPHA)
    critical = scipy_stats.norm.ppf(1 - ALPHA / 2)
    relative, rel_low, rel_high = log_ratio_relative_ci(
        p_c, p_c * (1 - p_c), n_c, p_t, p_t * (1 - p_t), n_t, critical
    )
    ratio_low, ratio_high = confint_proportions_2indep(s_t, n_t, s_c, n_c, method="log", compare="ratio", alpha=ALPHA)
    assert np.allclose([ratio_low - 1, ratio_high - 1], [rel_low, rel_high], rtol=0, atol=1e-12)
    return {
        "control": {"n": n_c, "successes": s_c, "mean": p_c},
        "treatment": {"n": n_t, "successes": s_t, "mean": p_t},
        "abs_lift": p_t - p_c,
        "rel_lift": relative,
        "statistic": float(z),
        "p_value": float(p_value),
        "ci_low": float(ci_low),
        "ci_high": float(ci_high),
        "rel_ci_low": rel_low,
        "rel_ci_high": rel_high,
        "bayesian": bayesian_reference(n_c, s_c, n_t, s_t),
    }


def mean_reference(control: pd.Series, treatment: pd.Series):
    c, t = control.to_numpy(float), treatment.to_numpy(float)
    scipy_result = scipy_stats.ttest_ind(t, c, equal_var=False)
    compare = CompareMeans(DescrStatsW(t), DescrStatsW(c))
    _, _, df = compare.ttest_ind(usevar="unequal")
    ci_low, ci_high = compare.tconfint_diff(alpha=ALPHA, usevar="unequal")
    critical = scipy_stats.t.ppf(1 - ALPHA / 2, df)
    relative, rel_low, rel_high = log_ratio_relative_ci(
        c.mean(), c.var(ddof=1), len(c), t.mean(), t.var(ddof=1), len(t), critical
    )
    summary = {"n": len(c), "sum": float(c.sum()), "sum_squares": float(np.square(c).sum()), "mean": float(c.mean())}
    return {
        "control": summary,
        "treatment": {"n": len(t), "sum": float(t.sum()), "sum_squares": float(np.square(t).sum()), "mean": t.mean()},
        "abs_lift": float(t.mean() - c.mean()),
        "rel_lift": float(relative),
        "statistic": float(scipy_result.statistic),
        "df": float(df),
        "p_value": float(scipy_result.pvalue),
        "ci_low": float(ci_low),
        "ci_high": float(ci_high),
        "rel_ci_low": float(rel_low),
        "rel_ci_high": float(rel_high),
    }


def main(datasets_dir: Path) -> None:
    frame = pd.read_csv(datasets_dir / "hillstrom" / "hillstrom.csv.gz")
    by_arm = {arm: rows for arm, rows in frame.groupby("segment")}
    arms = [CONTROL, *TREATMENTS]
    counts = [len(by_arm[arm]) for arm in arms]
    srm_statistic, srm_p_value = chisquare(counts, np.full(3, sum(counts) / 3))
    comparisons = {}
    for treatment in TREATMENTS:
        control_rows, treatment_rows = by_arm[CONTROL], by_arm[treatment]
        metrics = {m: proportion_reference(control_rows[m], treatment_rows[m]) for m in PROPORTION_METRICS}
        metrics |= {m: mean_reference(control_rows[m], treatment_rows[m]) for m in MEAN_METRICS}
        comparisons[treatment] = metrics
    p_values = [comparisons[t][m]["p_value"] for t in TREATMENTS for m in (*PROPORTION_METRICS, *MEAN_METRICS)]
    close = CLOSE_CASE
    reference = {
        "source": "Kevin Hillstrom, MineThatData E-Mail Analytics And Data Mining Challenge, 2008",
        "alpha": ALPHA,
        "control": CONTROL,
        "arm_counts": dict(zip(arms, counts, strict=True)),
        "srm": {"statistic": float(srm_statistic), "p_value": float(srm_p_value)},
        "comparisons": comparisons,
        "holm": {"p_values": p_values, "adjusted": multipletests(p_values, method="holm")[1].tolist()},
        "close_case": {
            **close,
            "bayesian": bayesian_reference(
                close["control"]["n"],
                close["control"]["successes"],
                close["treatment"]["n"],
                close["treatment"]["successes"],
            ),
        },
    }
    OUTPUT.write_text(json.dumps(reference, indent=2, default=float) + "\n", encoding="utf-8")
    print(f"wrote {OUTPUT}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[3] / "shared" / "datasets")
