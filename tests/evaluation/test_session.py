"""Next-item prediction within sessions: the points, HR/MRR by hand, and ``promotions_evaluate --sessions``."""

import json

import numpy as np
from django.core.management import call_command

from promotions.evaluation import InteractionLog, temporal_split
from promotions.evaluation.session import Point, next_item, session_points
from promotions.recommenders import Reason, Recommendation, Recommender

DAY, MINUTE = 86400.0, 60.0
TRAIN = [("u1", "x", DAY), ("u1", "y", DAY), *((("u2", item, 2 * DAY)) for item in "abcdx")]
# u1's test rows: a, b, a (repeat), c; five hours later d, z (unknown item), x (bought before).
TEST = [("u1", item, 10 * DAY + n * MINUTE) for n, item in enumerate("abac")]
TEST += [("u1", item, 10 * DAY + 5 * 3600 + n * MINUTE) for n, item in enumerate("dzx")]


def split():
    rows = TRAIN + TEST
    log = InteractionLog(
        np.array([r[0] for r in rows]), np.array([r[1] for r in rows]), np.array([r[2] for r in rows], dtype=float)
    )
    return temporal_split(log, fraction=len(TRAIN) / len(rows))


class Fixed(Recommender):
    """Always the same list; records what it was asked."""

    name = "fixed"

    def __init__(self, ranked):
        super().__init__()
        self.ranked, self.calls = ranked, []

    def recommend(self, user_id=None, history=None, k=10, exclude=()):
        self.calls.append((user_id, tuple(history or ())))
        return [Recommendation(item, 1.0, Reason("fixed", "")) for item in self.ranked[:k]]


def test_points_follow_sessions_skip_repeats_unknown_and_owned_items():
    data = split()
    assert data.truth == {"u1": {"a", "b", "c", "d"}}
    assert session_points(data) == [Point("u1", ("a",), "b"), Point("u1", ("a", "b"), "c")]
    # One long session when the gap is longer than five hours: d continues it.
    assert session_points(data, gap_seconds=6 * 3600)[-1] == Point("u1", ("a", "b", "c"), "d")


def test_hit_rate_and_mrr_by_hand():
    points = session_points(split())
    model = Fixed(["c", "b"])
    result = next_item(model, points, k=10)
    assert (result.hr, result.mrr, result.points) == (1.0, 0.75, 2)  # b at rank 2, c at rank 1
    assert model.calls == [(None, ("a",)), (None, ("a", "b"))]
    model = Fixed(["c"])
    result = next_item(model, points, k=10, with_user=True)
    assert (result.hr, result.mrr) == (0.5, 0.5)
    assert model.calls[0] == ("u1", ("a",))
    np.testing.assert_array_equal(result.reciprocal_ranks, [0.0, 1.0])


def test_sampling_is_seeded_and_bounded():
    data = split()
    assert session_points(data, max_points=1) == session_points(data, max_points=1)
    assert len(session_points(data, max_points=1)) == 1


def test_command_sessions(tmp_path, tiny_csv, capsys):
    out = tmp_path / "out.json"
    call_command("promotions_evaluate", str(tiny_csv), "--models", "item_knn", "--sessions", "--json", str(out))
    sessions = json.loads(out.read_text())["models"]["item_knn"]["sessions"]
    assert set(sessions) == {"session_only", "with_user"}
    assert set(sessions["with_user"]) == {"hr", "mrr", "points"}
    assert "Next item within a session" in capsys.readouterr().out
