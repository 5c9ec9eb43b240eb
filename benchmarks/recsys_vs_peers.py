"""Our recommenders against the peer library ``implicit``, under the same protocol and tuning.

Install the peers into the venv first (they are not a dependency of the project):
    .venv/bin/pip install -r benchmarks/peers/requirements-recsys.txt
Run from the repository root:
    .venv/bin/python benchmarks/recsys_vs_peers.py [DATA_DIR] [--ours a,b] [--peers a,b] [--no-tune] [--json OUT]

DATA_DIR holds the protocol's ``interactions.csv.gz`` and ``items.csv.gz`` (default
``../shared/datasets/online-retail``). Every model, ours and the peers', is one ``Recommender``
scored by ``promotions.evaluation.evaluate``: the same temporal split, the same interaction
weights as input, the same padding rule (lists completed from the popularity ranking), the same
metrics. Tuning is the same for all: each model's small grid is scored on the protocol's
validation windows (cuts at the 60th, 70th and 80th percentile of the train rows; never the test
part) and ``promotions.evaluation.tuning.choose`` keeps the earliest candidate within one standard
error of the best; then the chosen parameters are fitted on the train rows and scored once on the
test part. ``ms/user`` is each library's own ``recommend`` for one known user. The ratio column is
NDCG@10 against popularity's in the same run.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from promotions.evaluation import (  # noqa: E402
    WINDOWS,
    ModelResult,
    evaluate,
    read_interactions,
    read_items,
    temporal_split,
    validation_splits,
)
from promotions.evaluation.tuning import GRIDS, search  # noqa: E402
from promotions.recommenders import MODELS, Interactions, ItemInfo, Reason, Recommendation, Recommender  # noqa: E402

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "online-retail"
OURS = ("popularity", "item_knn", "user_knn", "ease", "hybrid")

# The peers' grids: their defaults first, then one change at a time (as ours).
PEER_GRIDS: dict[str, list[dict[str, Any]]] = {
    "implicit_als": [
        {},
        {"factors": 64},
        {"factors": 200},
        {"regularization": 0.1},
        {"alpha": 10.0},
        {"alpha": 40.0},
        {"iterations": 30},
    ],
    "implicit_bpr": [
        {},
        {"factors": 64},
        {"learning_rate": 0.05},
        {"regularization": 0.001},
        {"iterations": 300},
    ],
    "implicit_cosine": [{}, {"K": 50}, {"K": 100}, {"K": 200}],
    "implicit_tfidf": [{}, {"K": 50}, {"K": 100}, {"K": 200}],
    "implicit_bm25": [{}, {"K": 50}, {"K": 100}, {"K": 200}, {"K1": 0.6}, {"B": 0.4}],
}
REASON = Reason("peer", "implicit")


class ImplicitRecommender(Recommender):
    """An ``implicit`` model behind our interface: fitted on the same weighted matrix, and its own
    ``recommend`` (filtering the user's items) answers for a known user."""

    #: implicit's class and the keyword arguments it gets on top of the tuned ones.
    peer: ClassVar[tuple[str, str]] = ("", "")
    fixed: ClassVar[dict[str, Any]] = {}

    def __init__(self, **params: Any):
        super().__init__(random_state=0)
        self.params = params

    def get_params(self) -> dict[str, Any]:
        return dict(self.params)

    def _fit(self, interactions: Interactions, infos: dict[str, ItemInfo]) -> None:
        import importlib

        from threadpoolctl import threadpool_limits

        module, name = self.peer
        self.matrix = sp.csr_matrix(self.user_items, dtype=np.float32)
        # implicit asks for single-threaded BLAS (its own threads do the work).
        with threadpool_limits(1, "blas"), warnings.catch_warnings():
            # Its check reads OpenBLAS's configured threads, not the limit in force here.
            warnings.filterwarnings("ignore", message="OpenBLAS is configured", category=RuntimeWarning)
            self.model = getattr(importlib.import_module(module), name)(**self.fixed, **self.params)
            self.model.fit(self.matrix, show_progress=False)

    def recommend(
        self,
        user_id: str | None = None,
        history: Sequence[str] | None = None,
        k: int = 10,
        exclude: Iterable[str] = (),
    ) -> list[Recommendation]:
        user = self.user_index.get(user_id)
        if user is None:
            return []
        start, stop = self.matrix.indptr[user : user + 2]
        # The user's row built directly (scipy's indexing re-checks the whole matrix on each call).
        row = sp.csr_matrix(
            (self.matrix.data[start:stop], self.matrix.indices[start:stop], [0, stop - start]),
            shape=(1, self.matrix.shape[1]),
        )
        ids, scores = self.model.recommend(user, row, N=k, filter_already_liked_items=True)
        return [Recommendation(str(self.item_ids[i]), float(s), REASON) for i, s in zip(ids, scores, strict=True)]


def peer(name: str, module: str, cls: str, **fixed: Any) -> type[ImplicitRecommender]:
    return type(name, (ImplicitRecommender,), {"name": name, "peer": (module, cls), "fixed": fixed})


PEERS: dict[str, type[ImplicitRecommender]] = {
    "implicit_als": peer("implicit_als", "implicit.als", "AlternatingLeastSquares", random_state=0, num_threads=2),
    "implicit_bpr": peer("implicit_bpr", "implicit.bpr", "BayesianPersonalizedRanking", random_state=0, num_threads=2),
    "implicit_cosine": peer("implicit_cosine", "implicit.nearest_neighbours", "CosineRecommender", num_threads=2),
    "implicit_tfidf": peer("implicit_tfidf", "implicit.nearest_neighbours", "TFIDFRecommender", num_threads=2),
    "implicit_bm25": peer("implicit_bm25", "implicit.nearest_neighbours", "BM25Recommender", num_threads=2),
}


def row(result: ModelResult, baseline: float) -> str:
    m = result.metrics
    return (
        f"| {result.name} | {m['ndcg']:.4f} | {m['ndcg'] / baseline:.2f} | {m['recall']:.4f} | {m['hr']:.4f} "
        f"| {m['coverage']:.4f} | {result.fit_seconds:.1f} | {result.ms_per_user:.3f} | {json.dumps(result.params)} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data", nargs="?", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--ours", default=",".join(OURS))
    parser.add_argument("--peers", default=",".join(PEERS))
    parser.add_argument("--no-tune", action="store_true", help="defaults only (no validation search)")
    parser.add_argument("--json", type=Path, help="also write every figure as JSON here")
    args = parser.parse_args()
    ours = [name for name in args.ours.split(",") if name]
    peers = [name for name in args.peers.split(",") if name]
    unknown = [name for name in ours if name not in MODELS] + [name for name in peers if name not in PEERS]
    if unknown:
        parser.exit(2, f"unknown model(s): {', '.join(unknown)}\n")
    try:
        import implicit
    except ImportError:
        parser.exit(2, "implicit is not installed: pip install -r benchmarks/peers/requirements-recsys.txt\n")

    started = time.perf_counter()
    split = temporal_split(read_interactions(args.data / "interactions.csv.gz"))
    items = read_items(args.data / "items.csv.gz")
    windows = [] if args.no_tune else validation_splits(split, WINDOWS)
    candidates = [(name, MODELS[name], GRIDS.get(name, [{}])) for name in dict.fromkeys(["popularity", *ours])]
    candidates += [(name, PEERS[name], PEER_GRIDS[name]) for name in peers]
    results = []
    for name, make, grid in candidates:
        params: dict[str, Any] = {}
        if windows and len(grid) > 1:
            params = search(
                make, grid, windows, items, progress=lambda line: print(f"  {line}", flush=True), label=name
            ).params
        results.append(evaluate(make(**params), split, items))
        print(f"{name}: test NDCG@10 {results[-1].metrics['ndcg']:.4f} with {params or 'defaults'}", flush=True)

    baseline = results[0].metrics["ndcg"]
    print(
        f"\nimplicit {implicit.__version__}; {len(split.truth)} users, {len(split.items)} items;"
        f" {'tuned on validation windows ' + str(WINDOWS) if windows else 'defaults'};"
        f" {time.perf_counter() - started:.0f} s in all\n"
    )
    print("| model | NDCG@10 | x pop | Recall@10 | HR@10 | Coverage@10 | fit s | ms/user | parameters |")
    print("|---|---|---|---|---|---|---|---|---|")
    for result in results:
        print(row(result, baseline))
    best_ours = max((r for r in results if r.name in MODELS), key=lambda r: r.metrics["ndcg"])
    peer_results = [r for r in results if r.name in PEERS]
    if peer_results:
        best_peer = max(peer_results, key=lambda r: r.metrics["ndcg"])
        print(
            f"\nbest of ours: {best_ours.name} {best_ours.metrics['ndcg']:.4f}; best peer: {best_peer.name}"
            f" {best_peer.metrics['ndcg']:.4f}; ratio {best_ours.metrics['ndcg'] / best_peer.metrics['ndcg']:.3f}"
        )
    if args.json:
        document = {"implicit": implicit.__version__, "models": {r.name: r.as_json() for r in results}}
        args.json.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
