"""Importing historical interactions from CSV into the event log.

The file is read twice, streaming, so memory does not grow with its size: the first pass
validates every row (nothing is written when any row is malformed) and finds the last
timestamp for ``shift_to``; the second writes events in batches. Each row's idempotency key
is the file's content hash plus its row number, so importing the same file again adds nothing.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.db import transaction

from ..products import get_adapter
from . import buffer
from .capture import is_known_event_type
from .limits import INT_MAX, ITEM_ID_LENGTH, PRICE_LIMIT, VISITOR_ID_LENGTH, clean_text, normalize_event
from .models import Event, Visitor

BATCH_SIZE = 5000
# A customer id is stored as the visitor id "ext:<id>", so it has four characters less.
USER_ID_LENGTH = VISITOR_ID_LENGTH - len(Visitor.external_key(""))
# Ids are cleaned of NUL and lone surrogates but never cut: a cut id would name another product.
_UNCUT = 1 << 20


class ImportFileError(ValueError):
    """The file cannot be imported; the message is one line for the user."""


@dataclass(frozen=True)
class ColumnMap:
    user: str = "user_id"
    item: str = "item_id"
    timestamp: str = "timestamp"
    event: str = "event"
    quantity: str = "quantity"
    price: str = "price"


@dataclass
class ImportReport:
    rows: int = 0
    imported: int = 0
    skipped: Counter = field(default_factory=Counter)
    unknown_items: set[str] = field(default_factory=set)
    first: datetime | None = None
    last: datetime | None = None
    shift: timedelta = timedelta(0)


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()[:16]


def _open_text(path: Path) -> io.TextIOBase:
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", newline="")
    return open(path, encoding="utf-8", newline="")


def _rows(path: Path, columns: ColumnMap) -> Iterator[tuple[int, dict[str, str]]]:
    try:
        with _open_text(path) as handle:
            reader = csv.DictReader(handle)
            header = reader.fieldnames or []
            missing = [name for name in (columns.user, columns.item, columns.timestamp) if name not in header]
            if missing:
                raise ImportFileError(
                    f"{path.name}: missing column(s) {', '.join(missing)} (found: {', '.join(header)})"
                )
            yield from enumerate(reader, start=2)  # line 1 is the header
    except (OSError, UnicodeDecodeError, EOFError, csv.Error) as exc:
        raise ImportFileError(f"{path.name}: cannot be read ({exc})") from exc


def parse_timestamp(text: str, zone: tzinfo) -> datetime:
    value = datetime.fromisoformat(text.strip())
    return value.replace(tzinfo=zone) if value.tzinfo is None else value


def shift_for(last: datetime, target: date) -> timedelta:
    """The whole-day shift that moves ``last`` onto ``target``, keeping the time of day."""
    return timedelta(days=(target - last.date()).days)


@dataclass
class _Row:
    number: int
    user: str
    item: str
    at: datetime
    event: str
    quantity: int | None
    price: Decimal | None


def _parse(number: int, row: dict[str, str], columns: ColumnMap, zone: tzinfo, default_event: str) -> _Row:
    where = f"line {number}"
    try:
        at = parse_timestamp(row[columns.timestamp] or "", zone)
    except ValueError:
        raise ImportFileError(f"{where}: unparseable timestamp {row[columns.timestamp]!r}") from None
    quantity_text = (row.get(columns.quantity) or "").strip()
    price_text = (row.get(columns.price) or "").strip()
    try:
        quantity = int(quantity_text) if quantity_text else None
        price = Decimal(price_text) if price_text else None
    except (ValueError, InvalidOperation):
        raise ImportFileError(f"{where}: quantity {quantity_text!r} or price {price_text!r} is not a number") from None
    return _Row(
        number=number,
        user=clean_text(row[columns.user] or "", _UNCUT).strip(),
        item=clean_text(row[columns.item] or "", _UNCUT).strip(),
        at=at,
        event=(row.get(columns.event) or "").strip() or default_event,
        quantity=quantity,
        price=price,
    )


def _skip_reason(row: _Row, known_items: set[str], create_items: bool) -> str | None:
    if not row.user:
        return "empty user_id"
    if not row.item:
        return "empty item_id"
    if len(row.user) > USER_ID_LENGTH:
        return f"user_id longer than {USER_ID_LENGTH} characters"
    if len(row.item) > ITEM_ID_LENGTH:
        return f"item_id longer than {ITEM_ID_LENGTH} characters"
    if not is_known_event_type(row.event):
        return f"unknown event type {row.event!r}"
    if row.quantity is not None and row.quantity <= 0:
        return "quantity not positive"
    if row.price is not None and not row.price.is_finite():
        return "price not a number"
    if row.price is not None and row.price < 0:
        return "negative price"
    if row.quantity is not None and row.quantity > INT_MAX:
        return "quantity too large"
    if row.price is not None and row.price >= PRICE_LIMIT:
        return "price too large"
    if row.item not in known_items and not create_items:
        return "unknown item"
    return None


def import_events(
    path: Path,
    *,
    columns: ColumnMap = ColumnMap(),  # noqa: B008 - immutable default
    zone: tzinfo,
    shift_to: date | None = None,
    dry_run: bool = False,
    create_items: bool = False,
    default_event: str = "purchase",
    progress: Callable[[int, int | None], None] | None = None,
) -> ImportReport:
    report = ImportReport()
    adapter = get_adapter()
    known_items = set(map(str, adapter.model._default_manager.values_list(adapter.lookup_field(), flat=True)))
    for number, raw in _rows(path, columns):  # pass 1: validate everything, find the time range
        row = _parse(number, raw, columns, zone, default_event)
        report.rows += 1
        if _skip_reason(row, known_items, create_items) is None:
            report.first = row.at if report.first is None else min(report.first, row.at)
            report.last = row.at if report.last is None else max(report.last, row.at)
    if shift_to is not None and report.last is not None:
        report.shift = shift_for(report.last, shift_to)

    prefix = file_digest(path)
    batch: list[_Row] = []
    done = 0
    for number, raw in _rows(path, columns):  # pass 2: write in batches
        row = _parse(number, raw, columns, zone, default_event)
        reason = _skip_reason(row, known_items, create_items)
        if reason:
            report.skipped[reason] += 1
            if reason == "unknown item":
                report.unknown_items.add(row.item)
        else:
            batch.append(row)
        done += 1
        if len(batch) >= BATCH_SIZE:
            _write_batch(batch, prefix, report, dry_run, known_items, create_items)
            batch = []
        if progress:
            progress(done, report.rows)
    _write_batch(batch, prefix, report, dry_run, known_items, create_items)
    return report


def _write_batch(
    rows: list[_Row], prefix: str, report: ImportReport, dry_run: bool, known_items: set[str], create_items: bool
) -> None:
    if not rows:
        return
    keys = {row.number: f"import:{prefix}:{row.number}" for row in rows}
    existing = set(Event.objects.filter(idempotency_key__in=keys.values()).values_list("idempotency_key", flat=True))
    fresh = [row for row in rows if keys[row.number] not in existing]
    if len(fresh) < len(rows):
        report.skipped["already imported"] += len(rows) - len(fresh)
    report.imported += len(fresh)
    if dry_run or not fresh:
        return
    with transaction.atomic():
        if create_items:
            _create_missing_items(fresh, known_items)
        users = {row.user for row in fresh}
        Visitor.objects.bulk_create(
            [Visitor(key=Visitor.external_key(user), kind=Visitor.Kind.EXTERNAL) for user in users],
            ignore_conflicts=True,
        )
        buffer.insert(
            normalize_event(
                {
                    "event_type": row.event,
                    "visitor_id": Visitor.external_key(row.user),
                    "item_id": row.item,
                    "quantity": row.quantity,
                    "unit_price": row.price,
                    "occurred_at": row.at + report.shift,
                    "idempotency_key": keys[row.number],
                    "context": {"source": "import"},
                }
            )
            for row in fresh
        )


def _create_missing_items(rows: list[_Row], known_items: set[str]) -> None:
    adapter = get_adapter()
    for row in rows:
        if row.item not in known_items:
            adapter.create_placeholder(row.item, price=row.price)
            known_items.add(row.item)
