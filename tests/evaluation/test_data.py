import math

import pytest

from promotions.evaluation import DataFormatError, read_interactions, read_items
from promotions.evaluation.data import parse_timestamp

from .conftest import TINY, write_csv


def test_reads_csv_and_gzip_alike(tmp_path, tiny_csv):
    plain = read_interactions(tiny_csv)
    packed = read_interactions(write_csv(tmp_path / "tiny.csv.gz", TINY))
    assert len(plain) == 10
    assert plain.users.tolist() == packed.users.tolist()
    assert plain.timestamps.tolist() == packed.timestamps.tolist()
    assert plain.events.tolist()[0] == "purchase"
    assert plain.quantities.tolist()[1] == 2.0


def test_timestamp_formats():
    assert parse_timestamp("2024-01-02") == parse_timestamp("2024-01-02 00:00:00")
    assert parse_timestamp("2024-01-02T01:00:00+01:00") == parse_timestamp("2024-01-02T00:00:00Z")


def test_optional_columns_may_be_absent(tmp_path):
    log = read_interactions(write_csv(tmp_path / "x.csv", "item_id,user_id,timestamp\na,u1,2024-01-01\n"))
    assert (log.users.tolist(), log.items.tolist(), log.events, log.quantities) == (["u1"], ["a"], None, None)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("user_id,item_id\nu1,a\n", "missing required column"),
        ("user_id,item_id,timestamp\n", "no interaction rows"),
        ("user_id,item_id,timestamp\nu1,a,yesterday\n", "line 2: bad timestamp 'yesterday'"),
        ("user_id,item_id,timestamp\nu1,a\n", "line 2: 2 fields"),
        ("user_id,item_id,timestamp\n,a,2024-01-01\n", "line 2: empty user_id"),
        ("user_id,item_id,timestamp,quantity\nu1,a,2024-01-01,many\n", "quantity 'many' is not a number"),
    ],
)
def test_malformed_input_raises_a_clear_value_error(tmp_path, text, message):
    with pytest.raises(DataFormatError, match=message) as caught:
        read_interactions(write_csv(tmp_path / "bad.csv", text))
    assert isinstance(caught.value, ValueError)


def test_unreadable_files(tmp_path):
    latin = tmp_path / "latin.csv"
    latin.write_bytes("user_id,item_id,timestamp\nu1,caf\xe9,2024-01-01\n".encode("latin-1"))
    with pytest.raises(DataFormatError, match="not UTF-8"):
        read_interactions(latin)
    fake_gzip = tmp_path / "fake.csv.gz"
    fake_gzip.write_text("user_id,item_id,timestamp\n")
    with pytest.raises(DataFormatError, match="cannot be read"):
        read_interactions(fake_gzip)
    with pytest.raises(DataFormatError, match="cannot be read"):
        read_interactions(tmp_path / "missing.csv")


def test_items_file(tmp_path):
    path = write_csv(tmp_path / "items.csv", "item_id,title,category,price\na,Red mug,,2.5\nb,,kitchen,\n")
    first, second = read_items(path)
    assert (first.item_id, first.title, first.category, first.price) == ("a", "Red mug", "", 2.5)
    assert (second.category, second.price) == ("kitchen", None)
    with pytest.raises(DataFormatError, match="price 'x'"):
        read_items(write_csv(tmp_path / "bad.csv", "item_id,price\na,x\n"))
    assert not math.isnan(first.price)
