"""A/A simulation of the A/B statistics engine, with timing.

Run from the repository root:  .venv/bin/python benchmarks/ab_aa_simulation.py [EXPERIMENTS]
"""

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.simulations.aa import simulate_aa  # noqa: E402


def main(experiments: int) -> None:
    started = time.perf_counter()
    result = simulate_aa(experiments=experiments, base_rate=0.02, visitors_per_arm_per_look=2_000, looks=20)
    elapsed = time.perf_counter() - started
    print(f"A/A simulation: {result.experiments:,} experiments, {result.looks} looks, 2,000 visitors per arm per look")
    print(f"  fixed-horizon z-test, final look:       {result.fixed_horizon_fpr:.2%} false positives (alpha 5%)")
    print(f"  fixed-horizon z-test, any of the looks: {result.peeking_fpr:.2%} (the cost of peeking)")
    print(f"  sequential test, any of the looks:      {result.sequential_fpr:.2%}")
    print(f"  SRM check (p < 0.001), final counts:    {result.srm_false_alarm_rate:.2%} false alarms")
    print(f"  {elapsed:.2f} s")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)
