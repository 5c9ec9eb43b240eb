"""Diversity of the recommendation lists: MMR over categories, its NDCG cost and its gain.

The hybrid is fitted on the v1 protocol's train part of the shared Online Retail file; each
evaluated user's top 50 is re-ranked by ``promotions.recommenders.diversity.mmr`` into 10, scored
against the v1 ground truth (NDCG@10) and by intra-list diversity over categories. Online Retail
has no categories: the demo shop's keyword rules (``shop_demo.catalog.categories``) give them, as
in the demo's catalogue; the catch-all category counts as none.

    .venv/bin/python benchmarks/diversity.py [--data ../shared/datasets/online-retail]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from promotions.evaluation import read_interactions, read_items, temporal_split  # noqa: E402
from promotions.evaluation.metrics import user_metrics  # noqa: E402
from promotions.recommenders import HybridRecommender  # noqa: E402
from promotions.recommenders.diversity import intra_list_diversity, mmr  # noqa: E402
from shop_demo.catalog.categories import FALLBACK_CATEGORY, assign_categories  # noqa: E402

LEVELS = (0.0, 0.1, 0.2, 0.3, 0.5)
K, DEPTH = 10, 50


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="../shared/datasets/online-retail")
    args = parser.parse_args()
    split = temporal_split(read_interactions(Path(args.data) / "interactions.csv.gz"))
    items = read_items(Path(args.data) / "items.csv.gz")
    by_title = assign_categories(item.title for item in items)
    categories = {item.item_id: by_title[item.title] for item in items if by_title[item.title] != FALLBACK_CATEGORY}
    catalogue = [item for item in items if item.item_id in split.item_users]
    model = HybridRecommender().fit(split.train.to_interactions(), catalogue)
    ranked = {user: [(r.item_id, r.score) for r in model.recommend(user_id=user, k=DEPTH)] for user in split.truth}
    print(f"users {len(ranked)}, items with a category {len(categories)} of {len(items)}")
    print(f"{'diversity':>9} {'NDCG@10':>8} {'HR@10':>7} {'ILD@10':>7} {'categories@10':>14}")
    for level in LEVELS:
        ndcg, hr, ild, distinct = [], [], [], []
        for user, truth in split.truth.items():
            chosen = mmr(ranked[user], categories, K, level)
            figures = user_metrics(chosen, truth, K)
            ndcg.append(figures["ndcg"])
            hr.append(figures["hr"])
            ild.append(intra_list_diversity(chosen, categories))
            distinct.append(len({categories[i] for i in chosen if i in categories}))
        print(f"{level:9.1f} {np.mean(ndcg):8.4f} {np.mean(hr):7.4f} {np.mean(ild):7.4f} {np.mean(distinct):14.2f}")


if __name__ == "__main__":
    main()
