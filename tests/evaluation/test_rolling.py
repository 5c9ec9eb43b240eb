"""Rolling-origin evaluation by hand on a four-month log: cut points, the split at each, the mean
and its standard error, the paired difference to popularity, and the command's table and JSON."""

import json
import math
from datetime import UTC, datetime

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from promotions.evaluation import read_interactions
from promotions.evaluation.rolling import cut_split, monthly_cuts, paired_difference, spread
from promotions.evaluation.split import SplitError

from .conftest import write_csv

# January: the first month (no cut before it). Cut points: Feb 1, Mar 1, Apr 1.
LOG = """user_id,item_id,timestamp
u1,a,2024-01-05
u1,b,2024-01-10
u2,a,2024-01-12
u3,b,2024-01-20
u2,c,2024-01-25
u1,c,2024-02-03
u3,c,2024-02-10
u4,a,2024-02-15
u2,b,2024-02-20
u1,d,2024-03-05
u2,d,2024-03-08
u3,a,2024-03-12
u4,b,2024-03-20
u3,d,2024-04-02
u4,c,2024-04-05
"""


def stamp(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


@pytest.fixture
def log_csv(tmp_path):
    return write_csv(tmp_path / "log.csv", LOG)


def test_cut_points_are_the_month_starts_after_the_first_month(log_csv):
    log = read_interactions(log_csv)
    cuts = monthly_cuts(log, 3)
    assert [c.label for c in cuts] == ["2024-02", "2024-03", "2024-04"]
    assert [c.start for c in cuts] == [stamp("2024-02-01"), stamp("2024-03-01"), stamp("2024-04-01")]
    assert cuts[0].end == cuts[1].start and cuts[1].end == cuts[2].start
    assert cuts[2].end > stamp("2024-04-05")  # the last month ends with the log
    assert [c.label for c in monthly_cuts(log, 2)] == ["2024-03", "2024-04"]  # the latest ones
    with pytest.raises(SplitError, match="3 monthly cut point"):
        monthly_cuts(log, 4)


def test_each_cut_trains_before_its_month_and_tests_on_that_month_only(log_csv):
    log = read_interactions(log_csv)
    february, march, april = monthly_cuts(log, 3)
    split = cut_split(log, march)
    assert len(split.train) == 9 and len(split.test) == 4  # April's rows are not used
    assert split.items == ["a", "b", "c"] and split.users == ["u1", "u2", "u3", "u4"]
    # u1 and u2 bought d, unknown before March; u3's a and u4's b are new to them.
    assert split.truth == {"u3": {"a"}, "u4": {"b"}}
    first = cut_split(log, february)
    assert len(first.train) == 5 and first.truth == {"u1": {"c"}, "u2": {"b"}, "u3": {"c"}}
    assert cut_split(log, april).truth == {"u3": {"d"}, "u4": {"c"}}


def test_mean_sd_and_standard_error_by_hand():
    figures = spread([2 / 3, 1.0, 1.0])
    assert figures.mean == pytest.approx(8 / 9)
    assert figures.sd == pytest.approx(math.sqrt(1 / 27))  # squares 4/81, 1/81, 1/81 over n - 1 = 2
    assert figures.se == pytest.approx(1 / 9) and figures.n == 3
    assert spread([0.5]).se == 0.0


def test_the_paired_difference_to_popularity_and_below_beyond_one_standard_error():
    better = paired_difference(np.array([1.0, 0.0, 1.0]), np.array([0.0, 0.0, 1.0]))
    assert better.mean == pytest.approx(1 / 3) and better.se == pytest.approx(1 / 3)
    worse = paired_difference(np.array([0.0, 0.0, 0.0]), np.array([1.0, 1.0, 0.0]))
    assert worse.mean == pytest.approx(-2 / 3) and worse.se == pytest.approx(1 / 3)
    assert worse.mean + worse.se < 0  # what the table marks as below popularity
    with pytest.raises(ValueError):
        paired_difference(np.zeros(2), np.zeros(3))


def test_the_command_reports_each_cut_point_and_the_mean_with_its_spread(tmp_path, log_csv, capsys):
    out = tmp_path / "rolling.json"
    call_command(
        "promotions_evaluate", str(log_csv), "--rolling", "3", "--k", "1", "--models", "item_knn", "--json", str(out)
    )
    document = json.loads(out.read_text())
    assert [c["cut"] for c in document["cuts"]] == ["2024-02", "2024-03", "2024-04"]
    assert [c["users"] for c in document["cuts"]] == [3, 2, 2]
    assert [(c["train_rows"], c["test_rows"]) for c in document["cuts"]] == [(5, 4), (9, 4), (13, 2)]
    # Popularity by hand (NDCG@1): February u1 -> c hit, u3 (has b) -> a miss, u2 -> b hit; then all hits.
    popularity = [c["models"]["popularity"]["ndcg"] for c in document["cuts"]]
    assert popularity == pytest.approx([2 / 3, 1.0, 1.0])
    summary = document["models"]["popularity"]["ndcg"]
    assert summary["mean"] == pytest.approx(8 / 9) and summary["se"] == pytest.approx(1 / 9) and summary["n"] == 3
    assert set(document["models"]) >= {"popularity", "item_knn"}
    knn = [c["models"]["item_knn"]["ndcg"] for c in document["cuts"]]
    assert document["models"]["item_knn"]["ndcg"]["mean"] == pytest.approx(float(np.mean(knn)))
    for c in document["cuts"]:
        difference = c["models"]["item_knn"]["vs_popularity"]
        assert difference["below"] == (difference["mean"] + difference["se"] < 0)
        if "selected" in c["models"]:
            assert c["models"]["selected"]["model"] in ("popularity", "trending", "item_knn", "ease", "hybrid")
    table = capsys.readouterr().out
    assert "2024-02" in table and "mean" in table and table.count("popularity") >= 2


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["--rolling", "0"], "--rolling must be at least 1"),
        (["--rolling", "9"], "3 monthly cut point"),
        (["--rolling", "2", "--protocol", "v2"], "--rolling is for --protocol v1"),
    ],
)
def test_bad_rolling_arguments_are_one_readable_line(log_csv, arguments, message):
    with pytest.raises(CommandError, match=message):
        call_command("promotions_evaluate", str(log_csv), "--models", "popularity", *arguments)
