"""Uplift models on the real Hillstrom e-mail experiment: every e-mail vs no e-mail, every outcome.

For visit, conversion and spend: the ``promotions_uplift`` procedure (split 70/30 stratified by
treatment and outcome, model chosen on a validation fold of the training part) over 10 seeds, as
mean ± sd, beside the baseline of random targeting (the e-mail's average effect on the test rows,
which is what uplift@k of a random ranking is worth) and the published reference (scikit-uplift's
example: uplift@30% = 0.066 for the Womens e-mail on visit, one split). Then the offline policy
evaluation: IPW estimates, with bootstrap intervals, of the visit rate and spend per customer of
sending each customer the e-mail with the higher predicted uplift (or none), against everyone
getting the best single e-mail and against nothing.

Run from the repository root:
    .venv/bin/python benchmarks/uplift_hillstrom.py [--datasets ../shared/datasets] [--repeats 10] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from promotions.uplift import data, policy  # noqa: E402
from promotions.uplift.evaluate import evaluate, fit_best, format_report  # noqa: E402

OUTCOMES = ("visit", "conversion", "spend")
CONTROL = "No E-Mail"
REFERENCE = {("Womens E-Mail", "visit"): 0.066}
#: The design: three arms of equal size, assigned at random.
PROPENSITY = 1 / 3


def load(path: Path, outcome: str) -> data.Experiment:
    others = [name for name in OUTCOMES if name != outcome]
    return data.load_experiment(path, "segment", outcome, control=CONTROL, exclude=others)


def average_effects(experiment: data.Experiment, treatment: str, seed: int, repeats: int) -> float:
    """Mean over the seeds' test rows of treated minus control mean outcome (random targeting)."""
    _, flags, outcome = data.pair(experiment, treatment)
    effects = []
    for repeat in range(repeats):
        _, test = data.stratified_split(flags, outcome, 0.3, seed + repeat)
        effects.append(outcome[test][flags[test] == 1].mean() - outcome[test][flags[test] == 0].mean())
    return float(np.mean(effects))


def _cell(value: float | None, sd: float | None) -> str:
    return "n/a" if value is None else f"{value:.4f} ± {sd:.4f}"


def model_figures(path: Path, seed: int, repeats: int) -> dict:
    reports, rows = {}, []
    for outcome in OUTCOMES:
        started = time.perf_counter()
        experiment = load(path, outcome)
        report = evaluate(experiment, seed=seed, repeats=repeats)
        print(format_report(report))
        print(f"  ({time.perf_counter() - started:.0f} s)\n")
        for treatment, result in report["treatments"].items():
            result["random_targeting"] = round(average_effects(experiment, treatment, seed, repeats), 6)
            rows.append((treatment, outcome, result))
        reports[outcome] = report
    print(f"Summary: mean ± sd over {repeats} seeds (from {seed}); model chosen on validation in each seed")
    print(
        f"{'treatment':<14} {'outcome':<10} {'model':<21} {'qini':>16} {'auuc':>16} {'uplift@10%':>16} "
        f"{'uplift@30%':>16} {'random':>8} {'reference':>9}"
    )
    for treatment, outcome, result in rows:
        reference = REFERENCE.get((treatment, outcome))
        print(
            f"{treatment:<14} {outcome:<10} {result['model']:<21} {_cell(result['qini'], result['qini_sd']):>16} "
            f"{_cell(result['auuc'], result['auuc_sd']):>16} "
            f"{_cell(result['uplift_at']['10'], result['uplift_at_sd']['10']):>16} "
            f"{_cell(result['uplift_at']['30'], result['uplift_at_sd']['30']):>16} "
            f"{result['random_targeting']:>8.4f} {reference if reference is not None else '':>9}"
        )
        if reference is not None:
            ratio = result["uplift_at"]["30"] / reference
            print(f"{'':<14} uplift@30% vs the published {reference}: x{ratio:.2f}")
    return reports


def policy_evaluation(path: Path, seed: int, n_bootstrap: int) -> dict:
    """One split of all three arms; models fitted on its training part, policies judged on its test part."""
    experiments = {outcome: load(path, outcome) for outcome in ("visit", "spend")}
    arms = experiments["visit"].arms
    treatments = experiments["visit"].treatments
    visit = experiments["visit"].outcome
    strata = np.unique(arms, return_inverse=True)[1]
    train, test = data.stratified_split(strata, visit, 0.3, seed)  # stratified by arm and visit
    in_train = np.zeros(arms.size, dtype=bool)
    in_train[train] = True
    features = experiments["visit"].features

    uplifts, chosen_models = {}, {}
    for outcome, experiment in experiments.items():
        uplifts[outcome] = {}
        for treatment in treatments:
            rows = in_train & np.isin(arms, (treatment, CONTROL))
            name, model = fit_best(
                features[rows],
                (arms[rows] == treatment).astype(int),
                experiment.outcome[rows],
                experiment.binary,
                seed=seed,
            )
            chosen_models[f"{treatment} / {outcome}"] = name
            uplifts[outcome][treatment] = model.predict_uplift(features[test])

    # The best single e-mail is the one with the higher mean outcome on the training part.
    best = {
        outcome: max(treatments, key=lambda arm: experiment.outcome[in_train & (arms == arm)].mean())
        for outcome, experiment in experiments.items()
    }
    n = test.size
    policies = {
        "nothing": np.full(n, CONTROL, dtype=object),
        **{f"everyone: {arm}": np.full(n, arm, dtype=object) for arm in treatments},
        "targeted on visit uplift": policy.uplift_policy(uplifts["visit"], CONTROL),
        "targeted on spend uplift": policy.uplift_policy(uplifts["spend"], CONTROL),
    }
    results = {"seed": seed, "test_rows": int(n), "models": chosen_models, "best_single": best, "estimates": {}}
    print(
        f"\nOffline policy evaluation (IPW, propensity 1/3 by design), test part of seed {seed}: {n:,} customers; "
        f"95% percentile bootstrap intervals over {n_bootstrap} resamples"
    )
    print("models (chosen on validation): " + ", ".join(f"{key}: {name}" for key, name in chosen_models.items()))
    for outcome, experiment in experiments.items():
        baseline = f"everyone: {best[outcome]}"
        estimates = policy.evaluate_policies(
            arms[test],
            np.full(n, PROPENSITY),
            experiment.outcome[test],
            policies,
            baseline=baseline,
            n_bootstrap=n_bootstrap,
            seed=seed,
        )
        print(f"\n{outcome} per customer (difference vs {baseline!r}, the best single e-mail on the training part)")
        sent = "sent " + "/".join(arm.split()[0] for arm in treatments) + "/none"
        print(
            f"{'policy':<28} {'estimate':>9} {'95% interval':>20} {'vs best single':>10} {'95% interval':>20} "
            f"{'matched':>8} {sent:>22}"
        )
        results["estimates"][outcome] = {}
        for name, estimate in estimates.items():
            shares = [np.mean(policies[name] == arm) for arm in (*treatments, CONTROL)]
            shares_text = "/".join(f"{share:.0%}" for share in shares)
            print(
                f"{name:<28} {estimate.value:>9.4f} [{estimate.low:>8.4f}, {estimate.high:>8.4f}] "
                f"{estimate.difference:>+10.4f} [{estimate.difference_low:>+8.4f}, {estimate.difference_high:>+8.4f}] "
                f"{estimate.matched:>8} {shares_text:>22}"
            )
            results["estimates"][outcome][name] = {
                **estimate.__dict__,
                "shares": dict(zip((*treatments, CONTROL), shares, strict=True)),
            }
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--datasets", type=Path, default=ROOT.parent / "shared" / "datasets")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--bootstrap", type=int, default=1000)
    parser.add_argument("--json", type=Path, help="also write every figure as JSON to this file")
    args = parser.parse_args()
    path = args.datasets / "hillstrom" / "hillstrom.csv.gz"
    started = time.perf_counter()
    # One thread per process: on a small shared machine OpenMP threads of the trees only fight.
    with threadpool_limits(1):
        reports = model_figures(path, args.seed, args.repeats)
        policies = policy_evaluation(path, args.seed, args.bootstrap)
    print(f"\n{time.perf_counter() - started:.0f} s in all")
    if args.json:
        args.json.write_text(json.dumps({"models": reports, "policy": policies}, indent=2, default=float) + "\n")


if __name__ == "__main__":
    main()
