"""Training time and peak memory as the shop's user base grows, per phase, in one run.

Run from the repository root:
    .venv/bin/python benchmarks/scale.py [SIZES ...] [--model ease] [--data DIR] [--threads 1] [--score-users N]

SIZES are multiples of the shared online-retail log (default ``1 4 16``). Size ``k`` is a
synthetic extension that keeps the data's structure: every customer is replicated ``k`` times
(``<id>#<r>``, the same items at the same times, shifted by ``r`` seconds so that the temporal
cuts stay where they were), so the log has ``k`` times the rows and users and the same items.
Each size runs in a fresh process (so one size's memory does not colour the next) through the
phases of a training run, on the same code the training pipeline uses:

- ``log``: the replicated rows turned into the coded log (``InteractionLog.from_codes``: what
  the chunked database loader produces);
- ``windows``: the protocol's temporal splits at the validation cuts, all alive together;
- ``score``: the model fitted on each window's train part and every evaluated user's list scored;
- ``fit``: the final fit on all the rows.

Printed per size and phase: seconds, the peak resident memory during the phase (Linux's VmHWM,
reset before each phase) and the resident memory after it; then peak bytes per row, and the
growth exponent of each figure (the slope of log(figure) against log(size): 1 is linear).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "online-retail"
PHASES = ("log", "windows", "score", "fit")


def memory_kb(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def reset_peak() -> None:
    with open("/proc/self/clear_refs", "w") as handle:
        handle.write("5")  # resets VmHWM to the current resident size


def replicate(data: Path, size: int) -> tuple:
    """The shared log's rows replicated ``size`` times by user, as codes (see the module doc)."""
    from promotions.evaluation import read_interactions

    base = read_interactions(data / "interactions.csv.gz")
    n_users, rows = len(base.user_ids), len(base)
    copies = np.repeat(np.arange(size, dtype=np.int32), rows)
    user_codes = np.tile(base.user_codes, size) + copies * n_users
    users = np.array([f"{user}#{r}" for r in range(size) for user in base.user_ids.tolist()], dtype=str)
    timestamps = np.tile(base.timestamps, size) + copies
    order = np.argsort(timestamps, kind="stable")  # the database reads in time order
    events = None if base.event_ids is None else (base.event_ids, np.tile(base.event_codes, size)[order])
    quantities = None if base.quantities is None else np.tile(base.quantities, size)[order]
    item_codes = np.tile(base.item_codes, size)[order]
    return (users, user_codes[order]), (base.item_ids, item_codes), timestamps[order], events, quantities


def sample_users(window, most: int | None, seed: int):
    """The window with at most ``most`` of its evaluated users (seeded), or as it is."""
    import dataclasses

    if most is None or len(window.truth) <= most:
        return window
    chosen = set(np.random.default_rng(seed).choice(sorted(window.truth), size=most, replace=False).tolist())
    return dataclasses.replace(window, truth={user: items for user, items in window.truth.items() if user in chosen})


def run_one(data: Path, size: int, model_name: str, threads: int, score_users: int | None = None) -> dict:
    from promotions.evaluation import WINDOWS, InteractionLog, evaluate, temporal_split
    from promotions.recommenders import MODELS
    from promotions.recommenders.threads import limited_threads

    figures: dict = {"size": size}
    raw = replicate(data, size)
    phases: dict[str, dict[str, float]] = {}

    def measure(name: str, work):
        reset_peak()
        started = time.perf_counter()
        result = work()
        phases[name] = {
            "seconds": time.perf_counter() - started,
            "peak_mb": memory_kb("VmHWM") / 1024,
            "rss_mb": memory_kb("VmRSS") / 1024,
        }
        return result

    with limited_threads(threads):
        log = measure("log", lambda: InteractionLog.from_codes(*raw))
        raw = None  # the log holds what it needs
        windows = measure("windows", lambda: [temporal_split(log, fraction) for fraction in WINDOWS])
        scored = [sample_users(window, score_users, seed) for seed, window in enumerate(windows)]
        measure("score", lambda: [evaluate(MODELS[model_name](), window, (), 10) for window in scored])
        measure("fit", lambda: MODELS[model_name]().fit(log.to_interactions(), ()))
    figures.update(rows=len(log), users=len(log.user_ids), items=len(log.item_ids), phases=phases)
    figures["evaluated_users"] = sum(len(window.truth) for window in windows)
    figures["scored_users"] = sum(len(window.truth) for window in scored)
    return figures


def exponent(sizes: list[int], values: list[float]) -> float:
    if len(sizes) < 2 or min(values) <= 0:
        return float("nan")
    return float(np.polyfit(np.log(sizes), np.log(values), 1)[0])


def size_parser(doc: str, sizes: list[int], model: str) -> argparse.ArgumentParser:
    """The arguments of a benchmark run at several sizes, each in a child process (``--one``)."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("sizes", nargs="*", type=int, default=sizes)
    parser.add_argument("--model", default=model)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)  # a child process: one size
    return parser


def each_size(script: str, args: argparse.Namespace, options: list[str]) -> Iterator[dict]:
    """Run ``script --one`` once per size in a fresh process; yields each child's JSON figures."""
    for size in args.sizes:
        command = [sys.executable, script, str(size), "--one", "--model", args.model, "--data", str(args.data)]
        done = subprocess.run([*command, *options], capture_output=True, text=True, check=False)
        if done.returncode != 0:
            print(f"size {size}x failed (exit {done.returncode}): {done.stderr.strip().splitlines()[-1:]}")
            continue
        yield json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = size_parser(__doc__, [1, 4, 16], "ease")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument(
        "--score-users", type=int, default=None, help="score at most this many evaluated users per window (seeded)"
    )
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(args.data, args.sizes[0], args.model, args.threads, args.score_users)))
        return
    if not args.sizes or min(args.sizes) < 1:
        parser.exit(2, "sizes must be positive integers\n")
    results = []
    options = ["--threads", str(args.threads)]
    options += [] if args.score_users is None else ["--score-users", str(args.score_users)]
    for figures in each_size(__file__, args, options):
        results.append(figures)
        print(
            f"{figures['size']}x: {figures['rows']} rows, {figures['users']} users, {figures['items']} items, "
            f"{figures['evaluated_users']} evaluated users over the windows ({figures['scored_users']} scored)",
            flush=True,
        )
    print(f"\nmodel {args.model}, {args.threads} BLAS thread(s)")
    print(f"{'size':>5} {'phase':>8} {'seconds':>9} {'peak MB':>9} {'after MB':>9} {'peak B/row':>11}")
    for figures in results:
        for phase in PHASES:
            values = figures["phases"][phase]
            per_row = values["peak_mb"] * 1024 * 1024 / figures["rows"]
            print(
                f"{figures['size']:>4}x {phase:>8} {values['seconds']:9.2f} {values['peak_mb']:9.0f} "
                f"{values['rss_mb']:9.0f} {per_row:11.0f}"
            )
    sizes = [figures["size"] for figures in results]
    print("\ngrowth exponents (slope of log(figure) on log(size))")
    for phase in PHASES:
        seconds = exponent(sizes, [figures["phases"][phase]["seconds"] for figures in results])
        peak = exponent(sizes, [figures["phases"][phase]["peak_mb"] for figures in results])
        print(f"{phase:>8}: time {seconds:.2f}, peak memory {peak:.2f}")
    print("load average (1, 5, 15 min): " + ", ".join(f"{value:.2f}" for value in os.getloadavg()))


if __name__ == "__main__":
    main()
