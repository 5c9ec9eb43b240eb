"""Fit time per BLAS/OpenMP thread setting, all in one run (``TRAINING_THREADS``).

Run from the repository root:
    .venv/bin/python benchmarks/threads.py [DATA_DIR] [--models ease,hybrid] [--rounds 3] [--threads default,1,2]

Each model is fitted on the protocol's train rows of DATA_DIR (default
``../shared/datasets/online-retail``) under each thread setting in turn, the settings alternating
within each round so that a change in the machine's load hits them all alike. ``default`` is
numpy's own (no limit: one thread per core). Printed per model and setting: the median and range
of the fit seconds, and the ratio of the median to the one-thread median of the same run; then the
load average, since other processes on a shared machine change the figures.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from contextlib import nullcontext
from pathlib import Path

from threadpoolctl import threadpool_info

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from promotions.evaluation import read_interactions, read_items, temporal_split  # noqa: E402
from promotions.recommenders import MODELS  # noqa: E402
from promotions.recommenders.threads import available_cores, limited_threads  # noqa: E402

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "online-retail"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data", nargs="?", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--models", default="ease,item_knn,hybrid")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", default=f"default,1,{available_cores()}")
    args = parser.parse_args()
    names = [name for name in args.models.split(",") if name]
    unknown = [name for name in names if name not in MODELS]
    settings = list(dict.fromkeys(args.threads.split(",")))
    if unknown or "1" not in settings or not all(s == "default" or s.isdigit() and int(s) > 0 for s in settings):
        parser.exit(2, "--models must name known models; --threads: 'default' or positive counts, 1 included\n")

    split = temporal_split(read_interactions(args.data / "interactions.csv.gz"))
    items_path = args.data / "items.csv.gz"
    items = read_items(items_path) if items_path.exists() else []
    interactions = split.train.to_interactions()
    blas = ", ".join(
        f"{p['internal_api']} {p.get('version')} {p.get('architecture')} ({p['num_threads']} threads)"
        for p in threadpool_info()
        if p["user_api"] == "blas"
    )
    print(
        f"{interactions.shape[0]} users x {interactions.shape[1]} items, {len(split.train)} train rows; "
        f"{available_cores()} cores; BLAS: {blas}; OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')}"
    )
    times: dict[tuple[str, str], list[float]] = {(name, s): [] for name in names for s in settings}
    for round_number in range(args.rounds):
        order = settings if round_number % 2 == 0 else settings[::-1]  # alternate the order too
        for name in names:
            for setting in order:
                limit = nullcontext() if setting == "default" else limited_threads(int(setting))
                model = MODELS[name]()
                with limit:
                    started = time.perf_counter()
                    model.fit(interactions, items)
                    times[name, setting].append(time.perf_counter() - started)
    print(f"{'model':>10} {'threads':>8} {'median s':>9} {'min-max s':>14} {'vs 1 thread':>12}")
    for name in names:
        one = statistics.median(times[name, "1"])
        for setting in settings:
            values = times[name, setting]
            median = statistics.median(values)
            print(f"{name:>10} {setting:>8} {median:9.2f} {min(values):6.2f}-{max(values):<7.2f} {median / one:11.2f}x")
    print("load average (1, 5, 15 min): " + ", ".join(f"{value:.2f}" for value in os.getloadavg()))


if __name__ == "__main__":
    main()
