"""user-kNN serving as the user base grows: precomputed neighbours against the scan, one run.

Run from the repository root:
    .venv/bin/python benchmarks/user_knn_scale.py [SIZES ...] [--requests 500] [--rounds 3]

SIZES are multiples of the shared online-retail log's users (default ``1 4 16``), replicated as
in ``scale.py``. At each size user-kNN is fitted once with its neighbours precomputed; the scan
is the same fitted model with the stored neighbours dropped, so both answer from identical
state. ``--requests`` random known users are served by each, alternating the two within every
round; a request's time is its fastest round. Printed: fit seconds (with the precomputation),
p50 and p99 of each path, their ratio, and whether every list was identical; then the load
average.

``--sample-neighbours`` (for sizes where precomputing every user's neighbours takes hours on a
small machine): the model is fitted without them, then the neighbours of the requested users
only are computed by the same code (each user's row is computed on its own, so it equals the
full computation's; a test checks it) and timed; the full precomputation's time is extrapolated
from it (seconds per user x users). Serving then reads those stored rows at the full user count.
"""

from __future__ import annotations

import argparse
import copy
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from scale import DEFAULT_DATA, replicate  # noqa: E402

from promotions.evaluation import InteractionLog  # noqa: E402
from promotions.recommenders import UserKNNRecommender  # noqa: E402
from promotions.recommenders.threads import limited_threads  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[1, 4, 16])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--sample-neighbours", action="store_true", help="precompute the requested users' only")
    args = parser.parse_args()
    print(
        f"{'size':>5} {'users':>7} {'fit s':>7} {'scan p50':>9} {'p99':>7} {'stored p50':>11} {'p99':>7} "
        f"{'ratio p50':>10} {'same lists':>11}"
    )
    for size in args.sizes:
        with limited_threads(1):
            interactions = InteractionLog.from_codes(*replicate(args.data, size)).to_interactions()
            started = time.perf_counter()
            stored = UserKNNRecommender(precompute_neighbours=not args.sample_neighbours).fit(interactions)
            fit_seconds = time.perf_counter() - started
            del interactions
            users = np.random.default_rng(size).choice(stored.user_ids, size=args.requests, replace=False).tolist()
            if args.sample_neighbours:
                started = time.perf_counter()
                rows = [stored.user_index[user] for user in users]
                stored.user_neighbours = stored._all_neighbours(users=np.array(rows))
                per_user = (time.perf_counter() - started) / len(rows)
                print(
                    f"{size}x: fit without neighbours {fit_seconds:.1f} s; neighbours of {len(rows)} users "
                    f"{per_user * 1000:.1f} ms each, so all {len(stored.user_ids)} users' about "
                    f"{per_user * len(stored.user_ids):.0f} s (extrapolated)",
                    flush=True,
                )
                fit_seconds += per_user * len(stored.user_ids)
        scan = copy.copy(stored)
        scan.user_neighbours = None
        best = {"scan": np.full(len(users), np.inf), "stored": np.full(len(users), np.inf)}
        same = True
        for round_number in range(args.rounds):
            order = [("scan", scan), ("stored", stored)]
            for name, model in order if round_number % 2 == 0 else order[::-1]:
                for position, user in enumerate(users):
                    started = time.perf_counter()
                    model.recommend(user_id=user, k=10)
                    best[name][position] = min(best[name][position], time.perf_counter() - started)
        for user in users[:100]:
            a, b = scan.recommend(user_id=user, k=10), stored.recommend(user_id=user, k=10)
            same &= [r.item_id for r in a] == [r.item_id for r in b]
        scan_ms, stored_ms = best["scan"] * 1000, best["stored"] * 1000
        print(
            f"{size:>4}x {len(stored.user_ids):>7} {fit_seconds:7.1f} {np.median(scan_ms):9.2f} "
            f"{np.percentile(scan_ms, 99):7.2f} {np.median(stored_ms):11.2f} {np.percentile(stored_ms, 99):7.2f} "
            f"{np.median(stored_ms) / np.median(scan_ms):10.2f} {str(same):>11}",
            flush=True,
        )
    print("load average (1, 5, 15 min): " + ", ".join(f"{value:.2f}" for value in os.getloadavg()))


if __name__ == "__main__":
    main()
