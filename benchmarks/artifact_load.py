"""Loading a trained model's artifact as the user base grows: the mapped format against the npz, one run.

Run from the repository root:
    .venv/bin/python benchmarks/artifact_load.py [SIZES ...] [--model hybrid] [--rounds 5]

SIZES are multiples of the shared online-retail log's users (default ``1 16 64``), replicated as
in ``scale.py``; each size runs in a fresh process. The model is fitted once (one BLAS thread)
and written both ways into a temporary folder: the earlier format (``save(compress=True)``, the
compressed ``.npz`` every version was stored in before) and the current one (``save()``). Each
is then loaded as a web worker does (``ModelVersion.load_model``: the npz read and decompressed,
the current format memory-mapped from its file), alternating the two within every round; the
fastest round counts (the file is in the page cache for both, as on a server that just wrote it).
Also timed: the first request of a known user after a load (it touches the mapped pages), and
the memory a load adds to the process's own (anonymous) pages (mapped pages are the page cache's,
shared by every worker). Printed per size: file sizes, load seconds, their ratio, first request, private MB.
"""

from __future__ import annotations

import gc
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from scale import each_size, replicate, size_parser  # noqa: E402


def private_mb() -> float:
    """This process's own memory (anonymous pages: not a file's, so never shared), in MB. Pages of
    a mapped artifact that a request touched are the page cache's, shared by every worker."""
    with open("/proc/self/smaps_rollup") as handle:
        fields = dict(line.split(":", 1) for line in handle if ":" in line)
    return int(fields["Anonymous"].split()[0]) / 1024


def run_one(data: Path, size: int, model_name: str, rounds: int) -> dict:
    from promotions.evaluation import InteractionLog
    from promotions.recommenders import MODELS, Recommender
    from promotions.recommenders.threads import limited_threads

    with limited_threads(1):
        interactions = InteractionLog.from_codes(*replicate(data, size)).to_interactions()
        started = time.perf_counter()
        model = MODELS[model_name]().fit(interactions, ())
        fit_seconds = time.perf_counter() - started
    users = np.random.default_rng(size).choice(model.user_ids, size=20, replace=False).tolist()
    figures: dict = {"size": size, "users": len(model.user_ids), "fit_s": fit_seconds}
    with tempfile.TemporaryDirectory() as folder:
        paths = {"npz": Path(folder) / "model.npz", "mapped": Path(folder) / "model.artifact"}
        for name, compress in (("npz", True), ("mapped", False)):
            started = time.perf_counter()
            paths[name].write_bytes(model.save(compress=compress))
            figures[f"{name}_save_s"] = time.perf_counter() - started
            figures[f"{name}_mb"] = paths[name].stat().st_size / 1e6
        del model, interactions
        gc.collect()
        loaders = {
            "npz": lambda: Recommender.load(paths["npz"].read_bytes()),  # what load_model did
            "mapped": lambda: Recommender.load(paths["mapped"]),  # what it does now (a local file)
        }
        best = {name: {"load": np.inf, "first": np.inf, "private": np.inf} for name in loaders}
        for round_number in range(rounds):
            for name in loaders if round_number % 2 == 0 else list(loaders)[::-1]:
                gc.collect()
                before = private_mb()
                started = time.perf_counter()
                loaded = loaders[name]()
                loaded_at = time.perf_counter()
                loaded.recommend(user_id=users[round_number % len(users)], k=10)
                done = time.perf_counter()
                figures_now = {"load": loaded_at - started, "first": done - loaded_at, "private": private_mb() - before}
                best[name] = {key: min(best[name][key], value) for key, value in figures_now.items()}
                del loaded
        same = all(
            Recommender.load(paths["npz"].read_bytes()).recommend(user_id=user, k=10)
            == Recommender.load(paths["mapped"]).recommend(user_id=user, k=10)
            for user in users[:5]
        )
    figures.update(best=best, same=same)
    return figures


def main() -> None:
    parser = size_parser(__doc__, [1, 16, 64], "hybrid")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(args.data, args.sizes[0], args.model, args.rounds)))
        return
    if not args.sizes or min(args.sizes) < 1:
        parser.exit(2, "sizes must be positive integers\n")
    print(f"model {args.model}; load = fastest of {args.rounds} alternating rounds")
    print(
        f"{'size':>5} {'users':>7} {'fit s':>7} {'npz MB':>7} {'mapped MB':>10} {'npz load s':>11} "
        f"{'mapped load s':>14} {'ratio':>7} {'1st req ms npz/mapped':>22} {'private MB npz/mapped':>22} {'same':>5}"
    )
    for f in each_size(__file__, args, ["--rounds", str(args.rounds)]):
        size = f["size"]
        npz, mapped = f["best"]["npz"], f["best"]["mapped"]
        print(
            f"{size:>4}x {f['users']:>7} {f['fit_s']:7.1f} {f['npz_mb']:7.1f} {f['mapped_mb']:10.1f} "
            f"{npz['load']:11.3f} {mapped['load']:14.4f} {mapped['load'] / npz['load']:7.4f} "
            f"{npz['first'] * 1000:10.2f} / {mapped['first'] * 1000:9.2f} "
            f"{npz['private']:10.1f} / {mapped['private']:9.1f} {str(f['same']):>5}",
            flush=True,
        )
    print("load average (1, 5, 15 min): " + ", ".join(f"{value:.2f}" for value in os.getloadavg()))


if __name__ == "__main__":
    main()
