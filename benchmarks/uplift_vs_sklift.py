"""Our uplift models and metrics against the peer library scikit-uplift, on the same Hillstrom splits.

For every e-mail vs no e-mail and every outcome, over 10 seeds (the splits of ``promotions_uplift``:
70/30, stratified by treatment and outcome), each pair of matching models is fitted with the same
scikit-learn trees on the same training rows and scored on the same test rows:
T-learner vs sklift ``TwoModels``, class transformation vs sklift ``ClassTransformation``, and our
third model (X-learner on 0/1 outcomes, S-learner on spend) beside sklift ``SoloModel`` (its
S-learner; scikit-uplift has no X-learner). Figures are mean ± sd; fit-and-predict time is summed
and given as a ratio. On 0/1 outcomes, scikit-uplift's own ``qini_auc_score``, ``uplift_auc_score``
and ``uplift_at_k(strategy="overall")`` are also computed on every prediction, and the largest
difference from ours is printed (scikit-uplift's metrics refuse non-binary outcomes, so spend is
scored with ours only).

Needs the peer library:  .venv/bin/pip install -r benchmarks/peers/requirements-uplift.txt
Run from the repository root:  .venv/bin/python benchmarks/uplift_vs_sklift.py [--repeats 10]
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from collections import defaultdict
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from promotions.uplift import data, metrics  # noqa: E402
from promotions.uplift import learners as models  # noqa: E402

try:
    from sklift import metrics as sklift_metrics
    from sklift import models as sklift_models
except ImportError:
    sys.exit("scikit-uplift is not installed: .venv/bin/pip install -r benchmarks/peers/requirements-uplift.txt")

OUTCOMES = ("visit", "conversion", "spend")
CONTROL = "No E-Mail"
KS = (0.1, 0.2, 0.3)


def model_pairs(binary: bool, seed: int) -> list[tuple[str, object, str, object]]:
    """(our name, our model, sklift name, sklift model), both on the same tree settings."""
    if binary:
        make = models.default_classifier(seed)
        third = ("x_learner", models.XLearner(make, models.default_regressor(seed)))
        return [
            ("t_learner", models.TLearner(make), "TwoModels", sklift_models.TwoModels(make(), make())),
            (
                "class_transformation",
                models.ClassTransformation(make),
                "ClassTransformation",
                sklift_models.ClassTransformation(make()),
            ),
            (*third, "SoloModel", sklift_models.SoloModel(make())),
        ]
    make = models.default_regressor(seed)
    return [
        ("t_learner", models.TLearner(make), "TwoModels", sklift_models.TwoModels(make(), make())),
        ("s_learner", models.SLearner(make), "SoloModel", sklift_models.SoloModel(make())),
    ]


def fit_predict(model, features, treatment, outcome, train, test) -> tuple[np.ndarray, float]:
    """Predicted uplift on the test rows and the seconds taken; scikit-uplift takes (X, y, treatment)."""
    started = time.perf_counter()
    if hasattr(model, "predict_uplift"):
        uplift = model.fit(features[train], treatment[train], outcome[train]).predict_uplift(features[test])
    else:
        uplift = model.fit(features[train], outcome[train], treatment[train]).predict(features[test])
    return uplift, time.perf_counter() - started


def sklift_figures(y, uplift, treatment) -> dict:
    return {
        "qini": sklift_metrics.qini_auc_score(y, uplift, treatment),
        "auuc": sklift_metrics.uplift_auc_score(y, uplift, treatment),
        "uplift_at": {
            f"{round(k * 100)}": sklift_metrics.uplift_at_k(y, uplift, treatment, strategy="overall", k=k) for k in KS
        },
    }


def _differences(ours: dict, theirs: dict) -> list[float]:
    pairs = [(ours["qini"], theirs["qini"]), (ours["auuc"], theirs["auuc"])]
    pairs += [(ours["uplift_at"][key], theirs["uplift_at"][key]) for key in ours["uplift_at"]]
    return [abs(a - b) for a, b in pairs if np.isfinite(a) and np.isfinite(b)]


def _mean_sd(values: list[float]) -> str:
    return f"{np.nanmean(values):.4f} ± {np.nanstd(values, ddof=1) if len(values) > 1 else 0.0:.4f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--datasets", type=Path, default=ROOT.parent / "shared" / "datasets")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()
    path = args.datasets / "hillstrom" / "hillstrom.csv.gz"
    # scikit-uplift calls a scikit-learn helper deprecated in 1.8: one warning per call, not our concern here.
    warnings.filterwarnings("ignore", category=FutureWarning)
    metric_gap, seconds = 0.0, defaultdict(float)
    print(f"Hillstrom, mean ± sd over {args.repeats} seeds (from {args.seed}), test part 30%; ours | scikit-uplift")
    header = f"{'treatment':<14} {'outcome':<10} {'model':<42} {'qini':>33} {'uplift@30%':>33} {'seconds':>15}"
    print(header)
    with threadpool_limits(1):  # one thread: a fair timing on a small shared machine
        for outcome in OUTCOMES:
            others = [name for name in OUTCOMES if name != outcome]
            experiment = data.load_experiment(path, "segment", outcome, control=CONTROL, exclude=others)
            for treatment in experiment.treatments:
                features, flags, y = data.pair(experiment, treatment)
                figures = defaultdict(list)
                for repeat in range(args.repeats):
                    seed = args.seed + repeat
                    train, test = data.stratified_split(flags, y, 0.3, seed)
                    for our_name, ours, their_name, theirs in model_pairs(experiment.binary, seed):
                        our_uplift, our_time = fit_predict(ours, features, flags, y, train, test)
                        their_uplift, their_time = fit_predict(theirs, features, flags, y, train, test)
                        key = (our_name, their_name)
                        seconds[(key, "ours")] += our_time
                        seconds[(key, "sklift")] += their_time
                        for side, uplift in (("ours", our_uplift), ("sklift", their_uplift)):
                            result = metrics.uplift_figures(y[test], uplift, flags[test], KS)
                            figures[(key, side)].append(result)
                            if experiment.binary:
                                checked = sklift_figures(y[test], uplift, flags[test])
                                metric_gap = max(metric_gap, *_differences(result, checked))
                        figures[(key, "time")].append((our_time, their_time))
                for key in dict.fromkeys(k for k, side in figures if side == "ours"):
                    ours, theirs = figures[(key, "ours")], figures[(key, "sklift")]
                    times = np.array(figures[(key, "time")]).sum(axis=0)
                    print(
                        f"{treatment:<14} {outcome:<10} {key[0] + ' | ' + key[1]:<42} "
                        f"{_mean_sd([f['qini'] for f in ours]) + ' | ' + _mean_sd([f['qini'] for f in theirs]):>33} "
                        f"{_mean_sd([f['uplift_at']['30'] for f in ours]) + ' | '}"
                        f"{_mean_sd([f['uplift_at']['30'] for f in theirs]):>15} "
                        f"{times[0]:>6.1f} | {times[1]:>6.1f}"
                    )
    print(f"\nLargest |our metric - scikit-uplift's| over every 0/1-outcome prediction: {metric_gap:.2e}")
    for ours_name, theirs_name in dict.fromkeys(key for key, _ in seconds):
        ours_time, theirs_time = (
            seconds[((ours_name, theirs_name), "ours")],
            seconds[((ours_name, theirs_name), "sklift")],
        )
        print(
            f"fit + predict, all cells: {ours_name} {ours_time:.1f} s, {theirs_name} {theirs_time:.1f} s "
            f"(ours / sklift x{ours_time / theirs_time:.2f})"
        )


if __name__ == "__main__":
    main()
