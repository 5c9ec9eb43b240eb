"""Reading the protocol's CSV files (``.csv`` or ``.csv.gz``), with clear errors for bad input."""

from __future__ import annotations

import csv
import gzip
import math
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path

import numpy as np

from promotions.recommenders import Interactions, ItemInfo, Weighting

REQUIRED_COLUMNS = ("user_id", "item_id", "timestamp")

#: A vocabulary of distinct ids and each row's code into it.
Coded = tuple[np.ndarray, np.ndarray]


class DataFormatError(ValueError):
    """The file is not in the protocol's format; the message names the file, line and problem."""


class InteractionLog:
    """The interaction rows in file order (time order, for the event log), stored compactly.

    Users, items and event types are small integer codes into sorted vocabularies (about 25 bytes
    a row instead of a Python object or a fixed-width string per row), and a subset that is a
    ``slice`` shares the arrays (a view, no copy): the protocol's temporal cuts of a log in time
    order are such slices. ``users``, ``items`` and ``events`` give the per-row ids as arrays.
    """

    def __init__(
        self,
        users: Sequence[str] | np.ndarray,
        items: Sequence[str] | np.ndarray,
        timestamps: Sequence[float] | np.ndarray,
        events: Sequence[str] | np.ndarray | None = None,
        quantities: Sequence[float] | np.ndarray | None = None,
    ):
        user_ids, user_codes = np.unique(np.asarray(users, dtype=str), return_inverse=True)
        item_ids, item_codes = np.unique(np.asarray(items, dtype=str), return_inverse=True)
        event_ids, event_codes = (None, None)
        if events is not None:
            event_ids, event_codes = np.unique(np.asarray(events, dtype=str), return_inverse=True)
        self._set(
            user_ids,
            user_codes.astype(np.int32),
            item_ids,
            item_codes.astype(np.int32),
            np.asarray(timestamps, dtype=np.float64),
            event_ids,
            None if event_codes is None else event_codes.astype(np.int16),
            None if quantities is None else np.asarray(quantities, dtype=np.float64),
        )

    def _set(self, user_ids, user_codes, item_ids, item_codes, timestamps, event_ids, event_codes, quantities) -> None:
        if not (len(user_codes) == len(item_codes) == len(timestamps)):
            raise ValueError("users, items and timestamps must have the same length")
        #: Sorted distinct ids; a row's user is ``user_ids[user_codes[row]]`` (the same for items).
        self.user_ids, self.user_codes = user_ids, user_codes
        self.item_ids, self.item_codes = item_ids, item_codes
        self.timestamps = timestamps
        self.event_ids, self.event_codes = event_ids, event_codes
        self.quantities = quantities
        #: Per-row rating values and dwell seconds (NaN where none), or None: see ``from_codes``.
        self.ratings: np.ndarray | None = None
        self.dwell: np.ndarray | None = None

    @classmethod
    def from_codes(
        cls,
        users: Coded,
        items: Coded,
        timestamps: np.ndarray,
        events: Coded | None = None,
        quantities: np.ndarray | None = None,
        ratings: np.ndarray | None = None,
        dwell: np.ndarray | None = None,
    ) -> InteractionLog:
        """A log from (distinct ids in any order, per-row codes into them) pairs; sorted here.
        ``ratings`` and ``dwell`` (seconds, NaN where a row has none) are the signals a
        ``Weighting`` may use (``rating_power``, ``dwell_seconds``)."""
        log = cls.__new__(cls)
        coded_events = (None, None) if events is None else _sorted_codes(*events)
        log._set(*_sorted_codes(*users), *_sorted_codes(*items), timestamps, *coded_events, quantities)
        log.ratings, log.dwell = ratings, dwell
        return log

    def __len__(self) -> int:
        return len(self.timestamps)

    @cached_property
    def users(self) -> np.ndarray:
        return self.user_ids[self.user_codes]

    @cached_property
    def items(self) -> np.ndarray:
        return self.item_ids[self.item_codes]

    @cached_property
    def events(self) -> np.ndarray | None:
        return None if self.event_ids is None else self.event_ids[self.event_codes]

    def subset(self, rows: np.ndarray | slice) -> InteractionLog:
        """The rows selected by a mask, indices or a slice (a slice shares the arrays)."""
        log = InteractionLog.__new__(InteractionLog)
        log._set(
            self.user_ids,
            self.user_codes[rows],
            self.item_ids,
            self.item_codes[rows],
            self.timestamps[rows],
            self.event_ids,
            None if self.event_codes is None else self.event_codes[rows],
            None if self.quantities is None else self.quantities[rows],
        )
        log.ratings = None if self.ratings is None else self.ratings[rows]
        log.dwell = None if self.dwell is None else self.dwell[rows]
        return log

    @cached_property
    def time_ordered(self) -> bool:
        return bool(np.all(self.timestamps[1:] >= self.timestamps[:-1]))

    def to_interactions(self, weighting: Weighting | None = None) -> Interactions:
        weighting = weighting or Weighting()
        return Interactions.from_codes(
            self.user_ids,
            self.user_codes,
            self.item_ids,
            self.item_codes,
            self.timestamps,
            weighting.coded_row_weights(self.event_ids, self.event_codes, self.quantities, len(self))
            * weighting.signal_factors(self.ratings, self.dwell, len(self)),
            weighting.half_life_days,
        )


def _sorted_codes(ids: np.ndarray, codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The vocabulary sorted, and the codes renumbered to match (one pass over the codes)."""
    ids = np.asarray(ids, dtype=str)
    order = np.argsort(ids, kind="stable")
    position = np.empty(len(ids), dtype=codes.dtype)
    position[order] = np.arange(len(ids), dtype=codes.dtype)
    return ids[order], position[codes]


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
