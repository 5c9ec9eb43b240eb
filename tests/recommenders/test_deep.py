"""The deep models: content lets them score items nobody has bought; serving needs no TensorFlow."""

import subprocess
import sys

import numpy as np
import pytest

from promotions.recommenders import (
    MODELS,
    Interactions,
    NeuralRecommender,
    Recommendation,
    Recommender,
    SequentialRecommender,
)

# Two tastes: mugs bought together, plates bought together. mug3 and plate3 are catalogue-only.
ROWS = [
    row
    for user in range(12)
    for row in (
        (f"m{user}", "mug1", 0.0, "purchase", 1),
        (f"m{user}", "mug2", 1.0, "purchase", 1),
        (f"p{user}", "plate1", 0.0, "purchase", 1),
        (f"p{user}", "plate2", 1.0, "purchase", 1),
    )
] + [("mix", "mug1", 0.0, "purchase", 1), ("mix", "plate1", 1.0, "purchase", 1)]
ITEMS = [
    {"item_id": "mug1", "title": "red ceramic mug", "category": "kitchen", "price": 3.0},
    {"item_id": "mug2", "title": "blue ceramic mug", "category": "kitchen", "price": 3.5},
    {"item_id": "mug3", "title": "green ceramic mug", "category": "kitchen", "price": 3.0},
    {"item_id": "plate1", "title": "white dinner plate", "category": "table", "price": 9.0},
    {"item_id": "plate2", "title": "black dinner plate", "category": "table", "price": 9.5},
    {"item_id": "plate3", "title": "grey dinner plate", "category": "table", "price": 9.0},
]
PARAMS = {"epochs": 15, "dims": 16, "hidden": 32, "verbose": False, "random_state": 1}


@pytest.fixture(scope="module")
def neural() -> NeuralRecommender:
    return NeuralRecommender(**PARAMS).fit(Interactions.from_rows(ROWS), ITEMS)


def scores(model: Recommender, history: list[str]) -> dict[str, float]:
    return {r.item_id: r.score for r in model.recommend(history=history, k=10)}


def test_registered():
    assert MODELS["neural"] is NeuralRecommender and MODELS["sequential"] is SequentialRecommender


def test_cold_items_are_scored_by_their_content(neural):
    for history, cold, unrelated in ((["mug1"], "mug3", "plate3"), (["plate2"], "plate3", "mug3")):
        ranked = scores(neural, history)
        assert ranked[cold] > ranked[unrelated]
    # A known user gets the cold item of their taste before anything of the other taste.
    ranked = [r.item_id for r in neural.recommend(user_id="m0", k=10)]
    assert ranked[0] == "mug3"


def test_interface_contract(neural):
    recommended = neural.recommend(user_id="m3", history=["plate1"], k=3, exclude=["mug3"])
    assert 0 < len(recommended) <= 3
    assert all(isinstance(r, Recommendation) and r.score > 0 for r in recommended)
    assert [r.score for r in recommended] == sorted((r.score for r in recommended), reverse=True)
    assert not {"mug1", "mug2", "plate1", "mug3"} & {r.item_id for r in recommended}
    assert neural.recommend(user_id="nobody", history=["nothing"]) == []
    assert neural.similar_items("nothing") == []
    assert {r.item_id for r in neural.similar_items("mug2", k=2)} == {"mug1", "mug3"}
    assert neural.get_params()["dims"] == 16


def test_reason_names_the_largest_contributor_and_removing_it_lowers_the_score(neural):
    history = ["mug1", "plate2"]
    for recommendation in neural.recommend(history=history, k=4):
        source = recommendation.reason.item_id
        assert source in history
        without = neural.recommend(history=[i for i in history if i != source], k=10)
        assert {r.item_id: r.score for r in without}.get(recommendation.item_id, 0.0) < recommendation.score
        others = [i for i in history if i != source]
        alone = {item: scores(neural, [item]).get(recommendation.item_id, 0.0) for item in history}
        assert alone[source] >= max(alone[other] for other in others)


def test_deterministic_under_a_seed(neural):
    again = NeuralRecommender(**PARAMS).fit(Interactions.from_rows(ROWS), ITEMS)
    np.testing.assert_allclose(again.candidate, neural.candidate, atol=1e-6)
    for history in (["mug1"], ["plate1", "mug2"]):
        first, second = scores(neural, history), scores(again, history)
        assert first.keys() == second.keys()
        np.testing.assert_allclose([second[i] for i in first], list(first.values()), atol=1e-6)


def test_save_load_round_trip_serves_without_tensorflow(neural, tmp_path):
    data = neural.save()
    loaded = Recommender.load(data)
    assert type(loaded) is NeuralRecommender and loaded.get_params() == neural.get_params()
    assert loaded.recommend(user_id="p4", k=5) == neural.recommend(user_id="p4", k=5)
    artifact = tmp_path / "neural.npz"
    artifact.write_bytes(data)
    code = (
        "import sys\n"
        "from promotions.recommenders import Recommender\n"
        f"model = Recommender.load(open({str(artifact)!r}, 'rb').read())\n"
        "print(model.recommend(user_id='m1', k=1)[0].item_id, model.similar_items('plate1', k=1)[0].item_id)\n"
        "assert not any(name.split('.')[0] in ('tensorflow', 'keras') for name in sys.modules), 'TF imported'\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    top, similar = done.stdout.split()
    assert top == "mug3" and similar in ("plate2", "plate3")


def test_popularity_correction_lifts_rarely_bought_items():
    # Everyone buys "bag"; two of the mug buyers also buy "saucer". What goes with mug1?
    rows = [*ROWS, *((f"m{user}", "bag", 2.0, "purchase", 1) for user in range(12))]
    rows += [(f"p{user}", "bag", 2.0, "purchase", 1) for user in range(12)]
    rows += [("m0", "saucer", 3.0, "purchase", 1), ("m1", "saucer", 3.0, "purchase", 1)]
    items = [*ITEMS, {"item_id": "bag", "title": "paper bag"}, {"item_id": "saucer", "title": "saucer"}]
    gaps = []
    for correction in (0.0, 1.0):
        model = NeuralRecommender(**PARAMS, popularity_correction=correction).fit(Interactions.from_rows(rows), items)
        ranked = scores(model, ["mug1", "mug2"])
        gaps.append(ranked["saucer"] - ranked["bag"])
    assert gaps[1] > gaps[0]


# --- sequential ----------------------------------------------------------------------------------

CHAIN = "abcdefgh"  # every user walks part of the chain a -> b -> ... -> h, in time order


@pytest.fixture(scope="module")
def sequential() -> SequentialRecommender:
    rng = np.random.default_rng(0)
    rows = []
    for user in range(60):
        start = int(rng.integers(0, 5))
        for step, item in enumerate(CHAIN[start : start + int(rng.integers(2, 5))]):
            rows.append((f"u{user}", item, float(100 * user + step), "view", 1))
    params = {"dims": 16, "max_length": 6, "epochs": 40, "batch_size": 32, "verbose": False, "random_state": 2}
    return SequentialRecommender(**params).fit(Interactions.from_rows(rows))


def test_sequential_predicts_the_next_item_of_the_session(sequential):
    assert sequential.recommend(history=["c"], k=1)[0].item_id == "d"
    assert sequential.recommend(history=["d", "e"], k=1)[0].item_id == "f"
    top = sequential.recommend(history=["b", "c"], k=3, exclude=["d"])
    assert "d" not in {r.item_id for r in top} and all(r.reason.item_id in ("b", "c") for r in top)
    assert sequential.recommend(user_id="nobody") == []


def test_sequential_round_trip_serves_without_tensorflow(sequential, tmp_path):
    artifact = tmp_path / "sequential.npz"
    artifact.write_bytes(sequential.save())
    user = str(sequential.user_ids[0])
    assert Recommender.load(artifact.read_bytes()).recommend(user_id=user) == sequential.recommend(user_id=user)
    code = (
        "import sys\n"
        "from promotions.recommenders import Recommender\n"
        f"model = Recommender.load(open({str(artifact)!r}, 'rb').read())\n"
        "print(model.recommend(history=['e'], k=1)[0].item_id)\n"
        "assert not any(name.split('.')[0] in ('tensorflow', 'keras') for name in sys.modules), 'TF imported'\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["f"]


# --- training curves -----------------------------------------------------------------------------


def test_loss_curves_fall_and_survive_save_load(neural, sequential):
    for model, epochs in ((neural, PARAMS["epochs"]), (sequential, 40)):
        curve = model.loss_curve
        assert len(curve) == epochs and np.all(np.isfinite(curve))
        assert curve[-1] < curve[0]  # both learn their toy data
        np.testing.assert_array_equal(Recommender.load(model.save()).loss_curve, curve)


def test_tensorboard_logs_hold_one_loss_per_epoch(tmp_path):
    import tensorflow as tf

    log_dir = tmp_path / "tb"
    model = NeuralRecommender(**{**PARAMS, "epochs": 3}, log_dir=str(log_dir)).fit(Interactions.from_rows(ROWS), ITEMS)
    losses = {}
    for path in log_dir.iterdir():
        for record in tf.compat.v1.train.summary_iterator(str(path)):
            for value in record.summary.value:
                if value.tag == "loss":
                    losses[record.step] = float(tf.make_ndarray(value.tensor))
    assert sorted(losses) == [1, 2, 3]
    np.testing.assert_allclose([losses[step] for step in (1, 2, 3)], model.loss_curve, rtol=1e-6)
