"""The CSV reader both offline commands share: columns, the errors users see, numbers."""

import gzip

import numpy as np
import pytest

from promotions.csvinput import InputError, floats, numeric, read_columns


def test_named_or_every_column_from_plain_or_gzipped_files(tmp_path):
    text = "\ufeffarm,visit,spend\na,1,2.5\n\nb,0,\n"
    plain = tmp_path / "log.csv"
    plain.write_text(text, encoding="utf-8")
    zipped = tmp_path / "log.csv.gz"
    with gzip.open(zipped, "wt", encoding="utf-8") as handle:
        handle.write(text)
    for path in (plain, zipped):
        assert read_columns(path) == {"arm": ["a", "b"], "visit": ["1", "0"], "spend": ["2.5", ""]}
        assert read_columns(path, ["spend", "arm"]) == {"spend": ["2.5", ""], "arm": ["a", "b"]}


@pytest.mark.parametrize(
    ("content", "names", "message"),
    [
        ("", None, "is empty"),
        ("arm,visit\n", None, "header but no rows"),
        ("arm,visit\na,1\nb\n", None, "line 3 of .* has 1 fields, the header 2"),
        ("arm,visit\na,1\n", ["spend"], "column 'spend' not found in .* \\(columns: arm, visit\\)"),
    ],
)
def test_each_problem_is_one_line_naming_the_file(tmp_path, content, names, message):
    path = tmp_path / "bad.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InputError, match=message):
        read_columns(path, names)
    with pytest.raises(InputError, match="file not found"):
        read_columns(tmp_path / "absent.csv")


def test_numbers_name_the_first_bad_value_and_its_line():
    values, bad = floats(["1", " 2.5 ", ""])
    assert bad is None and values[:2].tolist() == [1.0, 2.5] and np.isnan(values[2])
    assert floats(["1", "x", "3"])[1] == 1
    assert numeric(["1", "2"], "spend").tolist() == [1.0, 2.0]
    with pytest.raises(InputError, match="outcome column 'visit' is not numeric: 'yes' on line 3"):
        numeric(["1", "yes"], "visit", "outcome column")
    with pytest.raises(InputError, match="column 'spend' is not numeric: '' on line 2"):
        numeric(["", "1"], "spend")
    with pytest.raises(InputError, match="'inf' on line 2"):
        numeric(["inf"], "spend")
