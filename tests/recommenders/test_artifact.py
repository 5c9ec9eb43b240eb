"""The artifact format: memory-mapped raw arrays, shared arrays stored once, the earlier format still loaded."""

import mmap
from pathlib import Path

import numpy as np
import pytest

from promotions.recommenders import MODELS, HybridRecommender, Interactions, Recommender, UserKNNRecommender, artifact
from promotions.recommenders.base import FORMAT_VERSION, artifact_format

from .test_interface import random_rows_and_items as rows_and_items  # what data/ was fitted on

DATA = Path(__file__).parent / "data"


def fitted(name: str) -> Recommender:
    rows, items = rows_and_items()
    model = MODELS[name](random_state=3).fit(Interactions.from_rows(rows), items)
    if name == "hybrid":
        model.forget_users(["u05"])
    return model


def served(model: Recommender) -> list:
    users = [f"u{n:02d}" for n in range(30)]
    return [model.recommend(user_id=user, k=5) for user in users] + [
        model.recommend(history=["i02", "i07"], k=5),
        model.recommend(user_id="u03", history=["i11"], k=5),
    ]


@pytest.mark.parametrize("name", ["hybrid", "user_knn", "ease", "popularity"])
def test_artifacts_of_the_previous_release_load_and_serve_as_a_fresh_fit(name, tmp_path):
    legacy = DATA / f"legacy-{name}.npz"  # written by the code before format 2 (compressed .npz)
    assert artifact_format(legacy) == 1
    # A fresh fit, saved and loaded in the current format (a loaded hybrid counts an item's buyers
    # again, without the forgotten user, so it is compared after a round trip too).
    expected = served(Recommender.load(fitted(name).save()))
    for source in (legacy.read_bytes(), legacy):
        model = Recommender.load(source)
        assert type(model) is MODELS[name]
        assert served(model) == expected
        # ... and saved again in the current format, from a file: memory-mapped, the same lists.
        path = tmp_path / f"{name}.artifact"
        path.write_bytes(model.save())
        assert artifact_format(path) == FORMAT_VERSION
        assert served(Recommender.load(path)) == expected
    if name == "hybrid":
        assert "u05" not in model.user_index and "u06" in model.user_index


def test_a_file_is_mapped_and_a_write_never_reaches_it(tmp_path):
    model = fitted("user_knn")
    path = tmp_path / "user_knn.artifact"
    path.write_bytes(model.save())
    loaded = Recommender.load(path)
    for array in (loaded.user_items.data, loaded.item_users.indices, loaded.user_neighbours.indptr, loaded.user_ids):
        assert mapped(array)
    assert not mapped(model.save()) and not mapped(Recommender.load(model.save()).user_items.data)
    before = path.read_bytes()
    loaded.user_vectors.data[0] = 2.0  # copy-on-write: this process's page only
    loaded.user_ids[3] = "someone"
    assert path.read_bytes() == before and Recommender.load(path).user_vectors.data[0] != 2.0
    # Forgetting sorts the stored neighbours (in place, inside scipy): the file stays as it was.
    loaded = Recommender.load(path)
    assert loaded.forget_users(["u01"]) == 1 and "u01" not in loaded.user_index
    assert path.read_bytes() == before and "u01" in Recommender.load(path).user_index
    from_bytes = Recommender.load(before)
    assert from_bytes.forget_users(["u01"]) == 1 and Recommender.load(before).user_ids[1] == "u01"
    assert served(Recommender.load(loaded.save()))[2:] == served(loaded)[2:]


def mapped(array: object) -> bool:
    """Whether the array is a view of a memory-mapped file."""
    while array is not None:
        if isinstance(array, (np.memmap, mmap.mmap)):
            return True
        array = getattr(array, "base", None)
    return False


def test_arrays_shared_by_a_hybrids_parts_are_stored_once():
    model = fitted("hybrid")
    data = model.save()
    # Five models (the hybrid, item-kNN, EASE, content, trending) hold the same user ids.
    assert data.count("u17".encode("utf-32-le")) == 1
    assert len(data) < len(model.save(compress=True)) * 3
    header, tree = artifact.load(data)
    assert header["format"] == FORMAT_VERSION and header["model"] == "hybrid"
    assert list(tree["children"]) == ["part.item_knn", "part.ease", "part.content", "trending"]
    assert tree["children"]["part.ease"]["arrays"]["user_ids"].tolist() == tree["arrays"]["user_ids"].tolist()


def test_user_lookup_without_a_dict_answers_as_one(tmp_path):
    model = fitted("hybrid")  # u05 forgotten: a blank id in the middle of sorted ids
    expected = {user: row for row, user in enumerate(model.user_ids.tolist()) if user}
    for index in (model.user_index, Recommender.load(model.save()).user_index):
        assert isinstance(index, artifact.IdIndex)
        assert {user: index[user] for user in expected} == expected
        assert dict(index) == expected and len(index) == len(expected) == 29
        for missing in ("", "u05", "u", "u299", "zz", "a", "u01 ", 17, None):
            assert missing not in index and index.get(missing, -1) == -1
        with pytest.raises(KeyError):
            index["u05"]
    assert artifact.IdIndex(np.array([], dtype=str)).get("u01") is None


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: data[:40],  # cut inside the header
        lambda data: data[: len(data) // 2],  # cut inside the arrays
        lambda data: b"PK" + data[2:],  # neither format
        lambda data: data.replace(b'"<f8"', b'"|O8"', 1),  # an object array: would unpickle
        lambda data: data.replace(b'"<f8"', b'"<f4"', 1),  # sizes that do not add up
        lambda data: data[:30] + b"{" + data[31:],  # a header that is not JSON
    ],
)
def test_a_damaged_artifact_is_refused_with_a_value_error(damage, tmp_path):
    data = damage(fitted("ease").save())
    with pytest.raises(ValueError):
        Recommender.load(data)
    path = tmp_path / "damaged"
    path.write_bytes(data)
    with pytest.raises(ValueError):
        Recommender.load(path)


def test_an_object_array_cannot_be_saved():
    with pytest.raises(ValueError, match="dtype object"):
        artifact.dumps({"model": "x", "params": {}, "arrays": {"a": np.array([{}], dtype=object)}, "children": {}})


def test_the_neighbours_transpose_is_stored_so_loading_builds_nothing(tmp_path):
    model = UserKNNRecommender().fit(Interactions.from_rows(rows_and_items()[0]))
    tree = artifact.load(model.save())[1]
    assert {"item_users.data", "user_neighbours.data", "user_order"} <= set(tree["arrays"])
    assert isinstance(Recommender.load(model.save()), UserKNNRecommender)
    assert HybridRecommender.load(fitted("hybrid").save()).parts.keys() == {"item_knn", "ease", "content"}


def test_a_hybrid_stores_its_buyer_counts_and_serves_the_same_after_a_round_trip():
    model = fitted("hybrid")  # u05 forgotten: their count of buyers is gone at once, not at reload
    tree = artifact.load(model.save())[1]
    assert tree["arrays"]["buyers"].tolist() == model.buyers.tolist()
    assert served(Recommender.load(model.save())) == served(model)
    assert sum(model.buyers) == model.user_items.nnz
