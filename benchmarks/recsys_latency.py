"""Serving latency of every recommender: one user's top-10 list from a fitted model.

Run from the repository root:
    .venv/bin/python benchmarks/recsys_latency.py [DATA_DIR] [--models a,b] [--deep-epochs 1] [--rounds 3]

DATA_DIR holds the protocol's ``interactions.csv.gz`` and ``items.csv.gz`` (default
``../shared/datasets/online-retail``). Each model is fitted on the protocol's train rows; then,
in each of ``--rounds`` rounds, ``recommend(user_id=u, k=10)`` is timed for every evaluated user
(known users, the serving case that precomputation does not cover between trainings) and for a
visitor known only by a five-item session. A request's time is its fastest round (the one least
disturbed by the other processes of a shared machine); p50 and p99 are over requests. The ratio
is against popularity's p50 in the same run (popularity only sorts precomputed counts: the floor
of any list). ``uncapped`` repeats the known-user p50 with ``max_history=None`` (every stored item
scored), where the model has that cap. Deep models are fitted with ``--deep-epochs`` epochs:
serving cost does not depend on how long they trained.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from promotions.evaluation import read_interactions, read_items, temporal_split  # noqa: E402
from promotions.recommenders import MODELS, Recommender  # noqa: E402

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "online-retail"
DEEP = ("neural", "sequential")
SESSION_LENGTH = 5


def request_times(model: Recommender, requests: list[dict], rounds: int) -> np.ndarray:
    """Milliseconds per request: the fastest of ``rounds`` timings of each."""
    best = np.full(len(requests), np.inf)
    for _ in range(rounds):
        for position, request in enumerate(requests):
            started = time.perf_counter()
            model.recommend(k=10, **request)
            best[position] = min(best[position], time.perf_counter() - started)
    return best * 1000.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data", nargs="?", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--deep-epochs", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    names = ["popularity", *[name for name in args.models.split(",") if name and name != "popularity"]]
    unknown = [name for name in names if name not in MODELS]
    if unknown:
        parser.exit(2, f"unknown model(s): {', '.join(unknown)}\n")

    split = temporal_split(read_interactions(args.data / "interactions.csv.gz"))
    catalogue = [item for item in read_items(args.data / "items.csv.gz") if item.item_id in split.item_users]
    interactions = split.train.to_interactions()
    users = list(split.truth)
    # Sessions: each evaluated user's first five test items, as an anonymous visitor's history.
    sessions: dict[str, list[str]] = {}
    for user, item in zip(split.test.users.tolist(), split.test.items.tolist(), strict=True):
        if user in split.truth and item in split.item_users:
            session = sessions.setdefault(user, [])
            if len(session) < SESSION_LENGTH and item not in session:
                session.append(item)
    known = [{"user_id": user} for user in users]
    visitors = [{"history": session} for session in sessions.values()]
    print(
        f"{len(known)} known users (stored history: median {np.median([len(split.seen[u]) for u in users]):.0f},"
        f" max {max(len(split.seen[u]) for u in users)} items), {len(visitors)} {SESSION_LENGTH}-item sessions,"
        f" {len(split.items)} items; fastest of {args.rounds} rounds per request"
    )
    print(
        f"{'model':<11} {'fit s':>6} {'p50 ms':>7} {'p99 ms':>7} {'x pop':>6}"
        f" {'session p50':>11} {'p99':>6} {'uncapped p50':>12}"
    )
    baseline = None
    for name in names:
        params = {"epochs": args.deep_epochs, "verbose": False} if name in DEEP else {}
        model = MODELS[name](**params)
        started = time.perf_counter()
        model.fit(interactions, catalogue)
        fit_seconds = time.perf_counter() - started
        users_ms = request_times(model, known, args.rounds)
        session_ms = request_times(model, visitors, args.rounds)
        p50 = float(np.median(users_ms))
        baseline = baseline or p50
        uncapped = "-"
        if "max_history" in model.get_params() and model.max_history is not None:
            model.max_history = None
            uncapped = f"{np.median(request_times(model, known, args.rounds)):.3f}"
        print(
            f"{name:<11} {fit_seconds:6.1f} {p50:7.3f} {np.percentile(users_ms, 99):7.3f} {p50 / baseline:6.1f}"
            f" {np.median(session_ms):11.3f} {np.percentile(session_ms, 99):6.3f} {uncapped:>12}",
            flush=True,
        )


if __name__ == "__main__":
    main()
