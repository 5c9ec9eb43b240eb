import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from .conftest import write_csv

ITEMS = "item_id,title,category,price\na,red mug,kitchen,2\nb,blue mug,kitchen,3\nc,red plate,table,9\n"


def test_json_layout_and_table(tmp_path, tiny_csv, capsys):
    items = write_csv(tmp_path / "items.csv", ITEMS)
    out = tmp_path / "out.json"
    call_command("promotions_evaluate", str(tiny_csv), "--items", str(items), "--k", "2", "--json", str(out))
    document = json.loads(out.read_text())
    assert document["protocol"] == "temporal-v1" and document["k"] == 2
    assert document["split"] == {"train_rows": 7, "test_rows": 3, "train_users": 4, "users": 2, "items": 3}
    expected = {"popularity", "trending", "content", "item_knn", "user_knn", "ease", "neural", "sequential", "hybrid"}
    assert set(document["models"]) == expected
    for figures in document["models"].values():
        assert set(figures) == {
            *("ndcg", "recall", "hr", "precision", "map", "coverage"),
            *("cold_users", "cold_items", "fit_seconds", "ms_per_user", "params"),
        }
    assert document["models"]["ease"]["params"]["l2"] > 0
    table = capsys.readouterr().out
    assert table.splitlines()[0].split()[:2] == ["model", "NDCG@2"]


def test_tune_reports_the_chosen_params(tmp_path, tiny_csv):
    out = tmp_path / "out.json"
    call_command("promotions_evaluate", str(tiny_csv), "--models", "trending", "--tune", "--json", str(out))
    params = json.loads(out.read_text())["models"]["trending"]["params"]
    assert params["half_life_days"] in (7.0, 14.0, 30.0, 90.0)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--models", "magic"], "unknown model"),
    ],
)
def test_bad_model_names_exit_2(tiny_csv, arguments, message):
    with pytest.raises(CommandError, match=message) as caught:
        call_command("promotions_evaluate", str(tiny_csv), *arguments)
    assert caught.value.returncode == 2


def test_malformed_file_exits_2_with_one_line(tmp_path):
    bad = write_csv(tmp_path / "bad.csv", "user_id,item_id,timestamp\nu1,a,not-a-date\n")
    with pytest.raises(CommandError, match="line 2: bad timestamp") as caught:
        call_command("promotions_evaluate", str(bad))
    assert caught.value.returncode == 2
    manage = Path(__file__).resolve().parents[2] / "manage.py"
    process = subprocess.run(
        [sys.executable, str(manage), "promotions_evaluate", str(bad)], capture_output=True, text=True, timeout=120
    )
    assert process.returncode == 2
    assert len(process.stderr.strip().splitlines()) == 1
    assert "bad timestamp" in process.stderr
