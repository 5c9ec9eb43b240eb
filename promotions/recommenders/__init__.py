"""Recommendation models in pure Python (numpy, scipy, scikit-learn); nothing here imports Django.

All share the interface of ``base.Recommender``::

    interactions = Interactions.from_rows(rows)          # (user_id, item_id, timestamp, event, quantity)
    model = ItemKNNRecommender(neighbours=100).fit(interactions, items)
    model.recommend(user_id="u1", k=10)                   # a known user
    model.recommend(history=["sku-1", "sku-7"], k=10)     # a visitor known by recent items
    data = model.save(); model = Recommender.load(data)   # artifact bytes (or a file), no pickle
"""

from .base import ItemInfo, NotFittedError, Reason, Recommendation, Recommender
from .content import ContentRecommender
from .ease import CatalogueTooLargeError, EASERecommender
from .hybrid import HybridRecommender
from .item_knn import ItemKNNRecommender
from .matrix import Interactions, Weighting
from .neural import NeuralRecommender
from .popularity import PopularityRecommender, TrendingRecommender
from .repurchase import BuyAgainRecommender, RepurchaseRecommender
from .sequential import SequentialRecommender
from .user_knn import UserKNNRecommender

#: Every model by its name (the names the evaluation command accepts).
MODELS: dict[str, type[Recommender]] = {
    model.name: model
    for model in (
        PopularityRecommender,
        TrendingRecommender,
        ContentRecommender,
        ItemKNNRecommender,
        UserKNNRecommender,
        EASERecommender,
        NeuralRecommender,
        SequentialRecommender,
        HybridRecommender,
    )
}

#: Models that list the visitor's own items again (buy again): scored under protocol v2 only, as
#: version 1 forbids a user's own items.
REPEAT_MODELS: dict[str, type[Recommender]] = {
    model.name: model for model in (RepurchaseRecommender, BuyAgainRecommender)
}

__all__ = [
    "MODELS",
    "REPEAT_MODELS",
    "BuyAgainRecommender",
    "RepurchaseRecommender",
    "CatalogueTooLargeError",
    "ContentRecommender",
    "EASERecommender",
    "HybridRecommender",
    "Interactions",
    "ItemInfo",
    "ItemKNNRecommender",
    "NeuralRecommender",
    "NotFittedError",
    "PopularityRecommender",
    "Reason",
    "Recommendation",
    "Recommender",
    "SequentialRecommender",
    "TrendingRecommender",
    "UserKNNRecommender",
    "Weighting",
]
