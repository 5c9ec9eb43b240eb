"""Reading a user's CSV file for the offline commands (A/B analysis, uplift): pure Python, no Django.

Every problem is an ``InputError`` whose message is one line for the user; the commands turn it
into that line on stderr and exit code 2.
"""

from __future__ import annotations

import csv
import gzip
import math
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

import numpy as np


class InputError(ValueError):
    """The CSV file or the options cannot be used; the message is one line for the user."""


def open_text(path: Path) -> TextIO:
    """The file as text (``.gz`` decompressed, a UTF-8 byte order mark skipped)."""
    opener = gzip.open if path.suffix == ".gz" else open
    return opener(path, "rt", encoding="utf-8-sig", newline="")


def read_columns(path: str | Path, names: Sequence[str] | None = None) -> dict[str, list[str]]:
    """The named columns (every column when ``names`` is None) as lists of strings, in file order.

    A missing file or column, an empty file, a header without rows and a row whose field count
    differs from the header's are errors, each naming the file (and the line)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"file not found: {path}")
    try:
        with open_text(path) as handle:
            reader = csv.reader(handle)
            header = next(reader, None)
            if not header:
                raise InputError(f"{path} is empty")
            wanted = list(header) if names is None else list(names)
            missing = [name for name in wanted if name not in header]
            if missing:
                raise InputError(f"column {missing[0]!r} not found in {path} (columns: {', '.join(header)})")
            indexes = [header.index(name) for name in wanted]
            columns: dict[str, list[str]] = {name: [] for name in wanted}
            for line, row in enumerate(reader, start=2):
                if not row:
                    continue
                if len(row) != len(header):
                    raise InputError(f"line {line} of {path} has {len(row)} fields, the header {len(header)}")
                for name, index in zip(wanted, indexes, strict=True):
                    columns[name].append(row[index])
    except (OSError, UnicodeDecodeError, csv.Error, EOFError) as error:
        raise InputError(f"cannot read {path}: {error}") from error
    if not columns[wanted[0]]:
        raise InputError(f"{path} has a header but no rows")
    return columns


def floats(values: Sequence[str]) -> tuple[np.ndarray, int | None]:
    """The values as floats (an empty one is NaN) and the index of the first that is not a number
    (None when all are)."""
    numbers = np.empty(len(values))
    for index, value in enumerate(values):
        text = value.strip()
        try:
            numbers[index] = float(text) if text else math.nan
        except ValueError:
            return numbers, index
    return numbers, None


def numeric(values: Sequence[str], column: str, label: str = "column") -> np.ndarray:
    """The column as finite floats; the first value that is not one is reported with its line
    (``label`` names the column's role in the message: "column", "outcome column")."""
    numbers, bad = floats(values)
    if bad is None:
        finite = np.isfinite(numbers)
        bad = None if finite.all() else int(np.argmin(finite))
    if bad is not None:
        raise InputError(f"{label} {column!r} is not numeric: {values[bad]!r} on line {bad + 2}")
    return numbers
