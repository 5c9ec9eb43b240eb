"""The tuning search: any Recommender factory, and the time budget that bounds the deep models' grids."""

from promotions.evaluation import read_interactions, temporal_split
from promotions.evaluation.tuning import BUDGETS, GRIDS, search
from promotions.recommenders import MODELS, TrendingRecommender


def test_search_scores_every_candidate_within_budget(tiny_csv):
    windows = [temporal_split(read_interactions(tiny_csv))]
    grid = [{}, {"half_life_days": 7.0}, {"half_life_days": 90.0}]
    lines = []
    result = search(TrendingRecommender, grid, windows, progress=lines.append, label="trending")
    assert [params for params, _ in result.scores] == grid
    assert len(lines) == 3 and lines[0].startswith("trending defaults: validation NDCG@10")
    assert result.params in grid


def test_a_spent_budget_leaves_the_rest_untried_but_always_scores_the_defaults(tiny_csv):
    windows = [temporal_split(read_interactions(tiny_csv))]
    grid = [{}, {"half_life_days": 7.0}, {"half_life_days": 90.0}]
    lines = []
    result = search(TrendingRecommender, grid, windows, progress=lines.append, label="trending", budget_seconds=0.0)
    assert [params for params, _ in result.scores] == [{}]
    assert result.params == {}
    assert lines[-1] == "trending: time budget of 0 s spent, 2 left untried"


def test_deep_models_have_small_bounded_grids():
    for name in ("neural", "sequential"):
        assert GRIDS[name][0] == {} and 1 < len(GRIDS[name]) <= 3 and BUDGETS[name] > 0
        for params in GRIDS[name]:
            MODELS[name](**params)  # every candidate is a valid parameter set
