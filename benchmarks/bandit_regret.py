"""Cumulative regret of bandit policies on the real Hillstrom arms, and the per-request cost of ``sample``.

Run from the repository root:

    .venv/bin/python benchmarks/bandit_regret.py [--data DIR] [--runs 20] [--visitors 64000] [--seed N]

Three arms, Mens E-Mail, Womens E-Mail and No E-Mail; each simulated visitor sent to an arm gets
the outcome of a customer drawn at random from that arm's rows of the randomized experiment.
Rewards: visit, then conversion (and spend, with Thompson sampling on revenue per visitor, when
``--rewards`` names it). Every policy of a run meets the same reward streams.
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.simulations.bandits import simulate  # noqa: E402
from promotions.bandits import Arm, ArmStats, EpsilonGreedy, FixedSplit, ThompsonSampling, ipw_estimates  # noqa: E402
from promotions.experiments.stats import offline  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
ARMS = ("Mens E-Mail", "Womens E-Mail", "No E-Mail")
# Reward column -> the metric the policies optimise: 0/1 outcomes are conversions, spend is revenue.
REWARDS = {"visit": "conversion", "conversion": "conversion", "spend": "revenue"}
DEFAULT_REWARDS = "visit,conversion"
REWEIGHT_EVERY = 1_000


def load_rewards(folder: Path, reward: str) -> dict[str, np.ndarray]:
    """Arm -> one outcome per customer of that arm, read and checked by the A/B-test reader."""
    data = offline.load_experiment(folder / "hillstrom.csv.gz", group_col="segment", metric_col=reward)
    return {arm: data.metric[data.groups == arm] for arm in ARMS}


def policies(metric: str) -> dict[str, tuple[object, int | None]]:
    """Label -> (policy, re-weighting period or None for request-time sampling)."""
    return {
        "fixed 1/3 split": (FixedSplit(), None),
        "epsilon-greedy (0.1)": (EpsilonGreedy(0.1, metric), None),
        "Thompson, per visitor": (ThompsonSampling(metric), None),
        "Thompson, burn-in 100, min share 2%": (ThompsonSampling(metric, burn_in=100, min_share=0.02), None),
        # Re-weighting as the periodic task does; its minimum share keeps the logged propensities
        # away from 0, which the inverse-propensity estimates below need.
        f"Thompson, re-weighted every {REWEIGHT_EVERY:,}, min share 2%": (
            ThompsonSampling(metric, min_share=0.02, draws=10_000),
            REWEIGHT_EVERY,
        ),
    }


def regret_table(rewards: dict[str, np.ndarray], metric: str, runs: int, visitors: int, seed: int) -> None:
    means = {arm: values.mean() for arm, values in rewards.items()}
    print("  true means: " + ", ".join(f"{arm} {mean:.4f}" for arm, mean in means.items()))
    print(f"  {'policy':<48} {'regret mean':>12} {'sd':>8} {'best-arm share':>15} {'s/run':>7}")
    baseline = None
    ipw_runs = []
    for label, (policy, reweight_every) in policies(metric).items():
        regrets, shares, started = [], [], time.perf_counter()
        for run in range(runs):
            # Same reward streams for every policy of a run; the policy's randomness apart.
            result = simulate(
                policy,
                rewards,
                visitors,
                policy_rng=np.random.default_rng([seed, run, 1]),
                reward_rng=np.random.default_rng([seed, run, 2]),
                reweight_every=reweight_every,
            )
            regrets.append(result.regret)
            shares.append(result.best_share)
            if reweight_every:
                ipw_runs.append(result)
        per_run = (time.perf_counter() - started) / runs
        mean = float(np.mean(regrets))
        baseline = baseline or mean
        print(
            f"  {label:<48} {mean:>12.1f} {np.std(regrets, ddof=1):>8.1f} {np.mean(shares):>15.1%} {per_run:>7.1f}"
            f"   ({mean / baseline:.3f} x the fixed split's regret)"
        )
    bias_table(ipw_runs, means)


def bias_table(runs: list, means: dict[str, float]) -> None:
    """Mean over runs of each arm's plain, IPW and self-normalized IPW estimate from the re-weighted runs."""
    estimates = [ipw_estimates(np.array(run.keys)[run.choices], run.rewards, run.propensities) for run in runs]
    print(f"  estimates from the re-weighted Thompson runs' logs (mean over {len(runs)} runs):")
    for arm, truth in means.items():
        naive = np.mean([e[arm].naive.mean for e in estimates])
        ipw = np.mean([e[arm].ipw.mean for e in estimates])
        snipw = np.mean([e[arm].self_normalized.mean for e in estimates])
        covered = np.mean([e[arm].ipw.low <= truth <= e[arm].ipw.high for e in estimates])
        print(
            f"    {arm:<14} true {truth:.5f}  plain mean {naive:.5f} ({naive / truth - 1:+.1%})"
            f"  IPW {ipw:.5f} ({ipw / truth - 1:+.1%}, 95% CI covers truth in {covered:.0%} of runs)"
            f"  self-normalized {snipw:.5f} ({snipw / truth - 1:+.1%})"
        )


def per_call(function, calls: int) -> float:
    """Microseconds of CPU time per call, the best of five timings.

    CPU time of this process rather than wall time, and the best of five, so that other work on
    a shared machine inflates the figure as little as possible.
    """
    timings = []
    for _ in range(5):
        started = time.process_time()
        for _ in range(calls):
            function()
        timings.append((time.process_time() - started) / calls)
    return min(timings) * 1e6


def sample_cost(seed: int) -> None:
    rng = np.random.default_rng(seed)
    arms = [Arm(f"arm{i}", ArmStats(1_000 + 50 * i, 10 + 3 * i, 40.0 + i, 900.0 + 30 * i)) for i in range(10)]
    baseline = per_call(lambda: FixedSplit().sample(arms, rng), 5_000)
    print(f"  fixed split sample (baseline)          {baseline:7.1f} us")
    for label, policy in {
        "Thompson sample, conversion": ThompsonSampling("conversion"),
        "Thompson sample, conversion, min share": ThompsonSampling("conversion", min_share=0.02),
        "Thompson sample, revenue per visitor": ThompsonSampling("revenue"),
    }.items():
        cost = per_call(lambda policy=policy: policy.sample(arms, rng), 5_000)
        print(f"  {label:<38} {cost:7.1f} us   ({cost / baseline:.1f} x the baseline; target < 100 us)")
    allocation_cost = per_call(lambda: ThompsonSampling(draws=10_000).allocation(arms, rng), 20) / 1000
    print(f"  Thompson allocation, 10,000 draws      {allocation_cost:7.1f} ms   (periodic task, not per request)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "datasets" / "hillstrom")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--visitors", type=int, default=64_000)
    parser.add_argument("--seed", type=int, default=20080320)
    parser.add_argument("--rewards", default=DEFAULT_REWARDS, help="comma-separated: visit, conversion, spend")
    args = parser.parse_args()
    chosen = [name.strip() for name in args.rewards.split(",")]
    if args.runs < 2 or args.visitors < 1 or not set(chosen) <= set(REWARDS):
        print("error: --runs must be at least 2, --visitors positive, --rewards among visit,conversion,spend")
        sys.exit(2)
    try:
        rewards = {reward: load_rewards(args.data, reward) for reward in chosen}
    except offline.InputError as error:
        print(f"error: {error}")
        sys.exit(2)
    print("Per-call cost with 10 arms:")
    sample_cost(args.seed)
    for reward in chosen:
        print(f"\nReward = {reward}: cumulative regret over {args.visitors:,} visitors, {args.runs} runs")
        regret_table(rewards[reward], REWARDS[reward], args.runs, args.visitors, args.seed)


if __name__ == "__main__":
    main()
