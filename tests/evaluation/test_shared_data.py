"""The protocol's reference baseline on the shared Online Retail file (PREPARED.md's figures)."""

import pytest

from promotions.evaluation import evaluate, read_interactions, temporal_split, validation_splits
from promotions.recommenders import PopularityRecommender

# Rounded to 7 digits in the protocol.
REFERENCE = {
    "ndcg": 0.0379162,
    "recall": 0.0198487,
    "hr": 0.2542254,
    "precision": 0.0344366,
    "map": 0.0142684,
    "coverage": 0.0196730,
}


@pytest.mark.data
def test_popularity_reference_figures(datasets_dir):
    split = temporal_split(read_interactions(datasets_dir / "online-retail" / "interactions.csv.gz"))
    sizes = (len(split.train), len(split.test), len(split.users), len(split.items), len(split.truth))
    assert sizes == (317_063, 79_274, 3_989, 3_609, 1_420)
    result = evaluate(PopularityRecommender(), split)
    for name, expected in REFERENCE.items():
        assert result.metrics[name] == pytest.approx(expected, abs=5e-8), name
    [validation] = validation_splits(split)
    sizes = (len(validation.train), len(validation.test), len(validation.users), len(validation.items))
    assert sizes + (len(validation.truth),) == (253_625, 63_438, 3_516, 3_477, 1_154)
