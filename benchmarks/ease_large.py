"""EASE beyond its dense limit: the sparse neighbourhood approximation against the exact fit.

Run from the repository root:
    .venv/bin/python benchmarks/ease_large.py [FACTORS ...] [--neighbourhood 100] [--dense-max 15000]

FACTORS multiply the shared online-retail catalogue (default ``1 4 14``: 3,659, 14,636 and
51,226 items). Factor ``r`` is a synthetic extension that keeps the data's structure: every item
gets ``r`` copies and each of its buyers is given one of them (a fixed hash of user and item), so
the rows and users stay the same and each copy has about 1/r of the item's buyers, as variants of
one product would. At each factor EASE is fitted single-threaded on the protocol's train rows by
the exact dense solver (while the catalogue is at most ``--dense-max`` items) and by the sparse
approximation; both then serve the same requests: 500 evaluated known users and 500 five-item
sessions, alternating the two models, a request's time its fastest of three rounds. At factor 1
both are also scored under the protocol (NDCG@10 on the test users): the approximation's cost.
Printed: fit seconds, p50/p99 per request kind, the sparse/dense ratios, NDCG@10; load average.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from promotions.evaluation import InteractionLog, evaluate, read_interactions, temporal_split  # noqa: E402
from promotions.recommenders import EASERecommender  # noqa: E402
from promotions.recommenders.threads import limited_threads  # noqa: E402

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "online-retail"
SESSION_LENGTH = 5


def more_items(log: InteractionLog, factor: int) -> InteractionLog:
    """Each item in ``factor`` copies, each buyer of it given one copy (see the module doc)."""
    if factor == 1:
        return log
    copy = (log.user_codes.astype(np.int64) * 2654435761 + log.item_codes) % factor
    item_ids = np.array([f"{item}#{c}" for item in log.item_ids.tolist() for c in range(factor)], dtype=str)
    item_codes = (log.item_codes.astype(np.int64) * factor + copy).astype(np.int32)
    events = None if log.event_ids is None else (log.event_ids, log.event_codes)
    return InteractionLog.from_codes(
        (log.user_ids, log.user_codes), (item_ids, item_codes), log.timestamps, events, log.quantities
    )


def serve(models: dict, requests: list[dict], rounds: int = 3) -> dict[str, np.ndarray]:
    best = {name: np.full(len(requests), np.inf) for name in models}
    for round_number in range(rounds):
        names = list(models) if round_number % 2 == 0 else list(models)[::-1]
        for name in names:
            for position, request in enumerate(requests):
                started = time.perf_counter()
                models[name].recommend(k=10, **request)
                best[name][position] = min(best[name][position], time.perf_counter() - started)
    return {name: times * 1000 for name, times in best.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("factors", nargs="*", type=int, default=[1, 4, 14])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--neighbourhood", type=int, default=100)
    parser.add_argument("--dense-max", type=int, default=15000)
    args = parser.parse_args()
    base = read_interactions(args.data / "interactions.csv.gz")
    rng = np.random.default_rng(0)
    for factor in args.factors:
        split = temporal_split(more_items(base, factor))
        interactions = split.train.to_interactions()
        users = rng.choice(list(split.truth), size=min(500, len(split.truth)), replace=False).tolist()
        items = interactions.item_ids
        sessions = [{"history": rng.choice(items, SESSION_LENGTH, replace=False).tolist()} for _ in range(500)]
        models, fits = {}, {}
        with limited_threads(1):
            solvers = ["sparse", *(["dense"] if len(items) <= args.dense_max else [])]
            for solver in solvers:
                model = EASERecommender(solver=solver, neighbourhood=args.neighbourhood, max_items=args.dense_max)
                started = time.perf_counter()
                models[solver] = model.fit(interactions)
                fits[solver] = time.perf_counter() - started
            known = serve(models, [{"user_id": user} for user in users])
            visitors = serve(models, sessions)
        print(f"\n{factor}x items: {len(items)} items, {interactions.shape[0]} users, {len(split.train)} train rows")
        for solver in solvers:
            nnz = models[solver].weights.nnz if solver == "sparse" else models[solver].weights.size
            print(
                f"  {solver:>6}: fit {fits[solver]:7.1f} s, {nnz} weights; known user p50 "
                f"{np.median(known[solver]):.2f} ms p99 {np.percentile(known[solver], 99):.2f} ms; "
                f"session p50 {np.median(visitors[solver]):.2f} ms p99 {np.percentile(visitors[solver], 99):.2f} ms"
            )
        if "dense" in models:
            print(
                f"  sparse/dense p50: known user {np.median(known['sparse']) / np.median(known['dense']):.2f}, "
                f"session {np.median(visitors['sparse']) / np.median(visitors['dense']):.2f}"
            )
        if factor == 1:
            with limited_threads(1):
                ndcg = {name: evaluate(model, split, (), 10).metrics["ndcg"] for name, model in models.items()}
            print(
                f"  NDCG@10 dense {ndcg.get('dense', float('nan')):.4f}, sparse {ndcg['sparse']:.4f}, "
                f"cost {ndcg.get('dense', float('nan')) - ndcg['sparse']:+.4f}"
            )
    print("\nload average (1, 5, 15 min): " + ", ".join(f"{value:.2f}" for value in os.getloadavg()))


if __name__ == "__main__":
    main()
