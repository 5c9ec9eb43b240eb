"""Reading the protocol's CSV files (``.csv`` or ``.csv.gz``), with clear errors for bad input."""

from __future__ import annotations

import csv
import gzip
import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from promotions.recommenders import Interactions, ItemInfo, Weighting

REQUIRED_COLUMNS = ("user_id", "item_id", "timestamp")


class DataFormatError(ValueError):
    """The file is not in the protocol's format; the message names the file, line and problem."""


@dataclass(frozen=True)
class InteractionLog:
    """The interaction rows as parallel arrays, in file order. ``timestamps``: epoch seconds."""

    users: np.ndarray
    items: np.ndarray
    timestamps: np.ndarray
    events: np.ndarray | None = None
    quantities: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.users)

    def subset(self, mask: np.ndarray) -> InteractionLog:
        return InteractionLog(
            self.users[mask],
            self.items[mask],
            self.timestamps[mask],
            None if self.events is None else self.events[mask],
            None if self.quantities is None else self.quantities[mask],
        )

    def to_interactions(self, weighting: Weighting | None = None) -> Interactions:
        return Interactions.from_arrays(
            self.users, self.items, self.timestamps, self.events, self.quantities, weighting
        )


def parse_timestamp(text: str) -> float:
    """Epoch seconds of an ISO 8601 timestamp (``YYYY-MM-DD`` and ``YYYY-MM-DD HH:MM:SS`` included);
    a timestamp without a zone is taken as UTC. Raises ``ValueError``."""
    moment = datetime.fromisoformat(text.strip())
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _rows(path: Path) -> Iterator[tuple[int, list[str]]]:
    """(line number, fields) of a UTF-8 CSV, gzip-compressed when the name ends in ``.gz``."""
    try:
        if path.suffix == ".gz":
            handle = gzip.open(path, "rt", encoding="utf-8-sig", newline="")
        else:
            handle = open(path, encoding="utf-8-sig", newline="")  # closed by the with below
        with handle:
            reader = csv.reader(handle)
            for fields in reader:
                if fields:
                    yield reader.line_num, fields
    except UnicodeDecodeError as error:
        raise DataFormatError(f"{path}: not UTF-8 text ({error.reason} at byte {error.start})") from error
    except (OSError, EOFError, csv.Error) as error:
        raise DataFormatError(f"{path}: cannot be read as CSV ({error})") from error


def _header(path: Path, rows: Iterator[tuple[int, list[str]]], required: tuple[str, ...]) -> dict[str, int]:
    try:
        _, header = next(rows)
    except StopIteration:
        raise DataFormatError(f"{path}: the file is empty (a header row is required)") from None
    columns = {name.strip(): position for position, name in enumerate(header)}
    missing = [name for name in required if name not in columns]
    if missing:
        raise DataFormatError(f"{path}: missing required column(s) {', '.join(missing)} in the header")
    return columns


def _field(path: Path, line: int, fields: list[str], width: int) -> list[str]:
    if len(fields) != width:
        raise DataFormatError(f"{path}, line {line}: {len(fields)} fields where the header has {width}")
    return fields


def read_interactions(path: str | Path) -> InteractionLog:
    """The interactions file: ``user_id``, ``item_id``, ``timestamp``; optional ``event``, ``quantity``."""
    path = Path(path)
    rows = _rows(path)
    columns = _header(path, rows, REQUIRED_COLUMNS)
    width = len(columns)
    user_at, item_at, time_at = (columns[name] for name in REQUIRED_COLUMNS)
    event_at, quantity_at = columns.get("event"), columns.get("quantity")
    users, items, times, events, quantities = [], [], [], [], []
    parsed: dict[str, float] = {}  # timestamps repeat a lot; parse each distinct one once
    for line, fields in rows:
        fields = _field(path, line, fields, width)
        user, item, stamp = fields[user_at], fields[item_at], fields[time_at]
        if not user.strip() or not item.strip():
            raise DataFormatError(f"{path}, line {line}: empty user_id or item_id")
        if stamp not in parsed:
            try:
                parsed[stamp] = parse_timestamp(stamp)
            except ValueError:
                raise DataFormatError(f"{path}, line {line}: bad timestamp {stamp!r} (ISO 8601 expected)") from None
        users.append(user)
        items.append(item)
        times.append(parsed[stamp])
        if event_at is not None:
            events.append(fields[event_at].strip())
        if quantity_at is not None:
            quantities.append(_number(path, line, "quantity", fields[quantity_at]))
    if not users:
        raise DataFormatError(f"{path}: no interaction rows after the header")
    return InteractionLog(
        np.array(users, dtype=str),
        np.array(items, dtype=str),
        np.array(times, dtype=np.float64),
        np.array(events, dtype=str) if event_at is not None else None,
        np.array(quantities, dtype=np.float64) if quantity_at is not None else None,
    )


def _number(path: Path, line: int, column: str, text: str) -> float:
    if not text.strip():
        return math.nan
    try:
        value = float(text)
    except ValueError:
        raise DataFormatError(f"{path}, line {line}: {column} {text!r} is not a number") from None
    if not math.isfinite(value):
        raise DataFormatError(f"{path}, line {line}: {column} {text!r} is not a finite number")
    return value


def read_items(path: str | Path) -> list[ItemInfo]:
    """The optional items file: ``item_id``; optional ``title``, ``description``, ``category``,
    ``brand``, ``price`` (any may be empty)."""
    path = Path(path)
    rows = _rows(path)
    columns = _header(path, rows, ("item_id",))
    width = len(columns)

    def text(fields: list[str], name: str) -> str:
        return fields[columns[name]].strip() if name in columns else ""

    items = []
    for line, fields in rows:
        fields = _field(path, line, fields, width)
        if not text(fields, "item_id"):
            raise DataFormatError(f"{path}, line {line}: empty item_id")
        price = _number(path, line, "price", text(fields, "price"))
        items.append(
            ItemInfo(
                item_id=text(fields, "item_id"),
                title=text(fields, "title"),
                description=text(fields, "description"),
                category=text(fields, "category"),
                brand=text(fields, "brand"),
                price=None if math.isnan(price) else price,
            )
        )
    return items
