"""Bought together offline: the widget's hit rate against raw co-occurrence counts.

Next-basket hold-out on the shared Online Retail file: pairs are learned from the baskets (a
customer's purchases on one day) of the v1 protocol's train part; for each basket of the test part
with two products or more and each product q in it, a method lists k companions of q, and it hits
when one of them is another product of that basket. Also reported: the same hits beyond the 100
best sellers, and how much of the lists the 100 best sellers fill (what a widget adds over a
best-seller list). A seeded sample of test baskets keeps the run short on a loaded machine.

    .venv/bin/python benchmarks/bought_together.py [--baskets 600] [--validation] [--data DIR]

``--validation`` scores on the train part's own temporal split (where the ranking is chosen).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from promotions.evaluation import read_interactions, temporal_split, validation_splits  # noqa: E402
from promotions.recommenders.together import BoughtTogether, basket_matrix  # noqa: E402

KS = (4, 10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="../shared/datasets/online-retail")
    parser.add_argument("--baskets", type=int, default=600, help="test baskets sampled (0: all)")
    parser.add_argument("--json", help="write the figures here")
    parser.add_argument(
        "--validation", action="store_true", help="score on the validation split inside the train part instead"
    )
    args = parser.parse_args()
    split = temporal_split(read_interactions(Path(args.data) / "interactions.csv.gz"))
    if args.validation:
        [split] = validation_splits(split)
    train, test = split.train, split.test
    n_items = len(train.item_ids)
    baskets = basket_matrix(train.user_codes, train.item_codes, train.timestamps, n_items)
    index = {item: i for i, item in enumerate(train.item_ids.tolist())}
    codes = np.array([index.get(item, -1) for item in test.item_ids[test.item_codes].tolist()])
    known = codes >= 0
    held = basket_matrix(test.user_codes[known], codes[known], test.timestamps[known], n_items)
    held = held[np.asarray(held.sum(axis=1)).ravel() >= 2]
    rows = np.arange(held.shape[0])
    if args.baskets and args.baskets < len(rows):
        rows = np.sort(np.random.default_rng(0).choice(rows, args.baskets, replace=False))
    sales = np.asarray(baskets.sum(axis=0)).ravel()
    best = np.argsort(-sales, kind="stable")
    top = set(best[:100].tolist())
    print(f"train baskets {baskets.shape[0]}, test baskets with 2+ products {held.shape[0]}, sampled {len(rows)}")

    def score(recommend) -> dict:
        hits, beyond, filled, listed, queries = dict.fromkeys(KS, 0), dict.fromkeys(KS, 0), 0, 0, 0
        for r in rows.tolist():
            items = held.indices[held.indptr[r] : held.indptr[r + 1]].tolist()
            for q in items:
                listed_items = recommend(q, max(KS))
                others = set(items) - {q}
                queries += 1
                listed += len(listed_items[:4])
                filled += sum(1 for i in listed_items[:4] if i in top)
                for k in KS:
                    found = others & set(listed_items[:k])
                    hits[k] += bool(found)
                    beyond[k] += bool(found - top)
        figures = {f"hr@{k}": hits[k] / queries for k in KS}
        figures.update({f"hr@{k}_beyond_top100": beyond[k] / queries for k in KS})
        figures["top100_share@4"] = filled / max(listed, 1)
        figures["queries"] = queries
        return figures

    results = {"best sellers": score(lambda q, k: [i for i in best[: k + 1].tolist() if i != q][:k])}
    methods = {
        "raw co-occurrence count": BoughtTogether(min_count=1, max_p_value=1.0, rank="count"),
        "evidence, significant (default)": BoughtTogether(),
        "lift, significant pairs": BoughtTogether(rank="lift"),
        "count, significant pairs": BoughtTogether(rank="count"),
    }
    for name, model in methods.items():
        started = time.perf_counter()
        model.fit(train.item_ids, baskets)
        fitted = time.perf_counter() - started
        results[name] = score(lambda q, k, m=model: [m.item_index[i] for i, _ in m.together([str(m.item_ids[q])], k)])
        results[name].update(fit_seconds=fitted, pairs=len(model.pairs_count))
    print(f"{'method':<32} {'HR@4':>6} {'HR@10':>6} {'HR@4>100':>9} {'HR@10>100':>10} {'top100@4':>9}")
    for name, r in results.items():
        print(
            f"{name:<32} {r['hr@4']:6.4f} {r['hr@10']:6.4f} {r['hr@4_beyond_top100']:9.4f} "
            f"{r['hr@10_beyond_top100']:10.4f} {r['top100_share@4']:9.4f}"
        )
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
