"""Experiment assignment: cost per assignment and the split of 1,000,000 visitor ids.

Run from the repository root:  .venv/bin/python benchmarks/assignment_cost.py [UNITS]

Each figure is the best of five rounds over the same precomputed ids (the best round is the one
least disturbed by the rest of the machine). The baselines run in the same rounds: a bare SHA-256
of the id (the floor of any hash-based assignment) and ``random.random()`` (random assignment,
which is cheaper but neither deterministic nor sticky without a database read).
"""

import hashlib
import random
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from promotions.experiments.stats.assignment import ExperimentSpec, LayerSlot, VariantSpec, assign  # noqa: E402

WEIGHTS = {"control": 0.5, "treatment_a": 0.3, "treatment_b": 0.2}
ROUNDS = 5
TIMED_UNITS = 200_000


def spec(traffic_share: float = 1.0, layer: LayerSlot | None = None) -> ExperimentSpec:
    variants = tuple(VariantSpec(key, weight) for key, weight in WEIGHTS.items())
    return ExperimentSpec("checkout", "checkout-2026", traffic_share, variants, layer)


def per_call_microseconds(call: Callable[[str], object], ids: list[str]) -> float:
    best = float("inf")
    for _ in range(ROUNDS):
        started = time.perf_counter()
        for unit in ids:
            call(unit)
        best = min(best, time.perf_counter() - started)
    return best / len(ids) * 1e6


def main(units: int) -> None:
    ids = [f"visitor:{i}" for i in range(units)]
    timed = ids[:TIMED_UNITS]
    full, half = spec(), spec(traffic_share=0.5)
    layered = spec(traffic_share=0.5, layer=LayerSlot("homepage-layer", 0.0, 0.5))
    cases: dict[str, Callable[[str], object]] = {
        "baseline: random.random()": lambda unit: random.random(),
        "baseline: bare sha256(unit id)": lambda unit: hashlib.sha256(unit.encode()).digest(),
        "assign, full traffic (one hash)": lambda unit: assign(unit, full),
        "assign, traffic share 50% (two hashes)": lambda unit: assign(unit, half),
        "assign, in a layer, share 50% (up to three)": lambda unit: assign(unit, layered),
        "assign, already exposed (recorded variant)": lambda unit: assign(unit, full, existing="control"),
    }
    print(f"Per-assignment cost, best of {ROUNDS} rounds over {len(timed):,} ids:")
    for name, call in cases.items():
        print(f"  {name:<46} {per_call_microseconds(call, timed):6.2f} us")

    started = time.perf_counter()
    counts = Counter(assign(unit, full) for unit in ids)
    elapsed = time.perf_counter() - started
    print(f"Split of {units:,} visitor ids ({elapsed:.2f} s):")
    worst = 0.0
    for key, weight in WEIGHTS.items():
        share = counts[key] / units
        worst = max(worst, abs(share - weight))
        print(f"  {key:<12} weight {weight:.2%}  got {share:.4%}  deviation {(share - weight) * 100:+.4f} points")
    print(f"  largest deviation {worst * 100:.4f} percentage points (limit 0.2)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
