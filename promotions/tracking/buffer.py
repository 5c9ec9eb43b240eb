"""Where captured events go between a request and the database.

With ``PROMOTIONS["REDIS_URL"]`` set, events are appended to a Redis stream and the flush
task moves them into the database in batches, at least once: a consumer group keeps every
read-but-unacknowledged event pending until it is inserted, and the idempotency key makes a
second insert of the same event a no-op. Without Redis, or while Redis is down, events are
written to the database at once, in one bulk insert per request.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db import DataError, IntegrityError, connections, router, transaction

from ..conf import app_settings
from ..products import get_adapter
from .limits import clean_text, row_problem
from .models import DeadLetterEvent, Event

logger = logging.getLogger(__name__)

GROUP = "promotions-flush"
# A pending event unacknowledged for this long belongs to a consumer that died: take it over.
CLAIM_IDLE_MS = 60_000
# After a Redis failure, requests skip Redis for this long instead of waiting on it each time.
REDIS_RETRY_SECONDS = 5.0

_clients: dict[str, Any] = {}
_redis_down_until = 0.0
failures = {"redis": 0, "database": 0}


def redis_client():
    """A Redis client for ``PROMOTIONS["REDIS_URL"]`` with short timeouts, or None."""
    url = app_settings.REDIS_URL
    if not url:
        return None
    if url not in _clients:
        import redis

        _clients[url] = redis.Redis.from_url(url, socket_connect_timeout=0.25, socket_timeout=1.0)
    return _clients[url]


def _redis_available() -> bool:
    return redis_client() is not None and time.monotonic() >= _redis_down_until


def _mark_redis_down() -> None:
    global _redis_down_until
    _redis_down_until = time.monotonic() + REDIS_RETRY_SECONDS
    failures["redis"] += 1


# The columns an event is buffered and written with, in order; other Event columns have defaults.
COLUMNS = (
    "event_type", "visitor_id", "user_id", "item_id", "product_id", "promotion_id", "quantity", "unit_price",
    "rating", "review_text", "query", "result_count", "dwell_seconds", "context", "occurred_at", "idempotency_key",
)  # fmt: skip
_USER, _PRODUCT, _PRICE, _CONTEXT, _TIME, _KEY = (
    COLUMNS.index(name)
    for name in ("user_id", "product_id", "unit_price", "context", "occurred_at", "idempotency_key")
)


def to_row(event: dict[str, Any]) -> list:
    """An event dict as a JSON-ready list in ``COLUMNS`` order: times ISO 8601, prices and the
    context as text, the product's primary key left to the insert. Buffered in this form, the
    flush task hands rows to the database without rebuilding them."""
    get = event.get
    occurred_at, unit_price = event["occurred_at"], get("unit_price")
    return [
        event["event_type"], event["visitor_id"], get("user_id"), get("item_id") or "", None,
        get("promotion_id"), get("quantity"), None if unit_price is None else str(unit_price), get("rating"),
        get("review_text") or "", get("query") or "", get("result_count"), get("dwell_seconds"),
        json.dumps(get("context") or {}),
        occurred_at if isinstance(occurred_at, str) else occurred_at.isoformat(), event["idempotency_key"],
    ]  # fmt: skip


def event_from_row(row: list) -> dict[str, Any]:
    """The event dict of a buffered row (for export and erasure of what still waits in Redis)."""
    event = dict(zip(COLUMNS, row, strict=True))
    event["context"] = json.loads(event["context"])
    return event


def decode_entry(fields: dict[bytes, bytes]) -> list:
    return json.loads(fields[b"r"])


# What a row itself can make the database refuse (a value its column cannot hold, a constraint);
# anything else (the server gone, a lost connection) leaves the rows pending for the next flush.
ROW_ERRORS = (DataError, IntegrityError, ValueError, TypeError)


@dataclass
class Entry:
    """One buffered event on its way to the table: where it came from, its row, and why it
    cannot be stored (None when it can)."""

    source: str
    row: Any
    payload: str
    problem: str | None = None


def _payload_text(raw: bytes) -> str:
    # Text a column can hold whatever arrived: invalid UTF-8 and NUL bytes written as escapes.
    return raw.decode("utf-8", "backslashreplace").replace("\x00", "\\u0000")


def entry_from_stream(message_id: bytes, fields: dict[bytes, bytes]) -> Entry:
    """A stream entry, decoded and checked against the limits without raising."""
    source = message_id.decode()
    raw = fields.get(b"r")
    if raw is None:
        described = json.dumps({key.decode("utf-8", "backslashreplace"): "..." for key in fields})
        return Entry(source, None, described, "the entry holds no event (field r missing)")
    payload = _payload_text(raw)
    try:
        row = json.loads(raw)
    except ValueError as exc:  # UnicodeDecodeError included
        return Entry(source, None, payload, f"broken JSON: {exc}")
    return Entry(source, row, payload, row_problem(row, COLUMNS))


def entry_from_row(row: list) -> Entry:
    """A row written straight to the database (no Redis), checked like a buffered one."""
    return Entry(f"direct:{row[_KEY]}", row, json.dumps(row, default=str), row_problem(row, COLUMNS))


def store(entries: list[Entry]) -> tuple[int, int]:
    """Store the entries that can be stored and dead-letter the others; returns (stored, dead).

    A batch the database refuses is split in halves until the refused rows stand alone, so one
    bad row costs a few extra inserts and never holds back the rows beside it. A database that
    is down raises, and nothing is dead-lettered.
    """
    dead = [entry for entry in entries if entry.problem]
    stored, refused = _insert_isolating([entry for entry in entries if not entry.problem])
    dead += refused
    if dead:
        record_dead_letters(dead)
    return stored, len(dead)


def _insert_isolating(entries: list[Entry]) -> tuple[int, list[Entry]]:
    if not entries:
        return 0, []
    try:
        return insert_rows([list(entry.row) for entry in entries]), []
    except ROW_ERRORS as exc:
        if len(entries) == 1:
            message = " ".join(str(exc).split())  # one line, as the database's text spans several
            entries[0].problem = clean_text(f"refused by the database: {type(exc).__name__}: {message}", 300)
            return 0, entries
    middle = len(entries) // 2
    stored_first, dead_first = _insert_isolating(entries[:middle])
    stored_second, dead_second = _insert_isolating(entries[middle:])
    return stored_first + stored_second, dead_first + dead_second


def record_dead_letters(entries: list[Entry]) -> None:
    """Keep the entries with their reasons; one recorded before (a flush retried) is kept once."""
    logger.warning(
        "promotions: %d buffered events cannot be stored and were dead-lettered (first: %s)",
        len(entries),
        entries[0].problem,
    )
    DeadLetterEvent.objects.using(router.db_for_write(DeadLetterEvent)).bulk_create(
        [
            DeadLetterEvent(
                source_id=clean_text(entry.source, 120),
                reason=clean_text(entry.problem or "", 300),
                payload=entry.payload,
            )
            for entry in entries
        ],
        ignore_conflicts=True,
    )


def write(events: list[dict[str, Any]]) -> None:
    """Store captured events: to the Redis buffer when it is up, else straight to the database."""
    if not events:
        return
    rows = [to_row(event) for event in events]
    if _redis_available():
        import redis

        try:
            messages = [{"r": json.dumps(row)} for row in rows]
            if len(messages) == 1:  # the common case: one round trip, without a pipeline's overhead
                redis_client().xadd(app_settings.EVENT_STREAM, messages[0])
            else:
                pipe = redis_client().pipeline(transaction=False)
                for message in messages:
                    pipe.xadd(app_settings.EVENT_STREAM, message)
                pipe.execute()
            return
        except redis.RedisError:
            logger.warning("promotions: Redis buffer unavailable, writing %d events to the database", len(rows))
            _mark_redis_down()
    store([entry_from_row(row) for row in rows])


def insert(events: Iterable[dict[str, Any]]) -> int:
    """Bulk-insert event dicts, skipping any whose idempotency key is already stored."""
    return insert_rows([to_row(event) for event in events])


def insert_rows(rows: list[list]) -> int:
    """Bulk-insert buffered rows, skipping any whose idempotency key is already stored.

    The ORM's bulk_create spends most of its time compiling SQL, which caps ingest far below
    what the database takes: PostgreSQL gets COPY, other databases one executemany of
    ``INSERT ... ON CONFLICT DO NOTHING``.
    """
    # One row per key: a batch may hold an event twice (a client resending it).
    rows = list({row[_KEY]: row for row in rows}.values())
    if not rows:
        return 0
    product_pks = _product_pks({row[3] for row in rows if row[3]})
    for row in rows:
        row[_PRODUCT] = product_pks.get(row[3])
    _forget_deleted_users(rows)
    connection = connections[router.db_for_write(Event)]
    quote = connection.ops.quote_name
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        if connection.vendor == "postgresql" and hasattr(cursor.cursor, "copy"):  # psycopg 3
            _copy_insert(cursor, quote, rows)
        else:
            _executemany_insert(cursor, quote, [_adapted(row, connection.ops) for row in rows])
    return len(rows)


# Product primary keys by public id, kept a few minutes per process: a batch names thousands of
# products, and looking them all up again for every batch costs as much as writing it.
_pk_cache: dict[str, Any] = {}
_pk_cache_since = 0.0
PK_CACHE_SECONDS = 300.0
PK_CACHE_SIZE = 200_000


def _product_pks(item_ids: set[str]) -> dict[str, Any]:
    global _pk_cache_since
    now = time.monotonic()
    if now - _pk_cache_since > PK_CACHE_SECONDS or len(_pk_cache) > PK_CACHE_SIZE:
        _pk_cache.clear()
        _pk_cache_since = now
    missing = [item_id for item_id in item_ids if item_id not in _pk_cache]
    if missing:
        _pk_cache.update(get_adapter().pks_by_ids(missing))  # unknown ids stay uncached and map to None
    return _pk_cache


def _forget_deleted_users(rows: list[list]) -> None:
    """An account deleted while its events waited in the buffer: store them without the user (as
    the foreign key's SET_NULL does for stored ones) rather than have the constraint refuse them."""
    user_ids = {row[_USER] for row in rows if row[_USER] is not None}
    if not user_ids:
        return
    existing = set(get_user_model()._default_manager.filter(pk__in=user_ids).values_list("pk", flat=True))
    if len(existing) < len(user_ids):
        for row in rows:
            if row[_USER] is not None and row[_USER] not in existing:
                row[_USER] = None


def forget_products() -> None:
    """Empty the whole id cache (``registry.forget_all``)."""
    _pk_cache.clear()


def forget_product(sender: Any, instance: Any, **kwargs: Any) -> None:
    """Drop a saved or deleted product from the cache (connected to the product model's signals)."""
    _pk_cache.pop(get_adapter().get_id(instance), None)


def _adapted(row: list, ops) -> list:
    row = list(row)
    row[_TIME] = ops.adapt_datetimefield_value(datetime.fromisoformat(row[_TIME]))
    if row[_PRICE] is not None:
        row[_PRICE] = ops.adapt_decimalfield_value(Decimal(row[_PRICE]), 12, 4)
    return row


def _executemany_insert(cursor, quote, rows: list[list]) -> None:
    columns = ", ".join(quote(column) for column in COLUMNS)
    placeholders = ", ".join(["%s"] * len(COLUMNS))
    table, key = quote(Event._meta.db_table), quote("idempotency_key")
    sql = f"INSERT INTO {table} ({columns}) VALUES ({placeholders}) ON CONFLICT ({key}) DO NOTHING"  # noqa: S608
    cursor.executemany(sql, rows)


def _copy_insert(cursor, quote, rows: list[list]) -> None:
    """COPY the rows straight into the table: the fast path, when none of their keys is stored.

    A key already stored (a flush retried after a crash, an import run twice) makes the unique
    constraint refuse the COPY; the batch then goes through a staging table and
    ``INSERT ... ON CONFLICT DO NOTHING``, which skips the stored ones.
    """
    table, key = quote(Event._meta.db_table), quote("idempotency_key")
    columns = ", ".join(quote(column) for column in COLUMNS)
    try:
        with transaction.atomic(using=cursor.db.alias):
            _copy(cursor, table, columns, rows)
    except IntegrityError:
        _insert_through_stage(cursor, table, columns, key, quote("promotions_event_stage"), rows)


def _copy(cursor, table: str, columns: str, rows: Iterable[list]) -> None:
    # The driver's own cursor does the COPY: wrapping turns its errors into Django's.
    with cursor.db.wrap_database_errors, cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _insert_through_stage(cursor, table: str, columns: str, key: str, stage: str, rows: Iterable[list]) -> None:
    # The staging table lives in the session; it is emptied first because an insert inside an
    # enclosing transaction (ATOMIC_REQUESTS, a test) would otherwise see the rows of the last one.
    cursor.execute(
        f"CREATE TEMPORARY TABLE IF NOT EXISTS {stage} ON COMMIT DELETE ROWS AS "  # noqa: S608
        f"SELECT {columns} FROM {table} WITH NO DATA"
    )
    cursor.execute(f"TRUNCATE {stage}")
    _copy(cursor, stage, columns, rows)
    cursor.execute(
        f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {stage} ON CONFLICT ({key}) DO NOTHING"  # noqa: S608
    )


def _consumer_name() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


def _ensure_group(client, stream: str) -> None:
    import redis

    try:
        client.xgroup_create(stream, GROUP, id="0", mkstream=True)
    except redis.ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise


def _read_batch(client, stream: str, count: int, claim_idle_ms: int) -> list[tuple[bytes, dict]]:
    """Events pending for a dead consumer first, then new ones."""
    consumer = _consumer_name()
    _next, claimed, *_ = client.xautoclaim(stream, GROUP, consumer, min_idle_time=claim_idle_ms, count=count)
    if claimed:
        return claimed
    # Our own pending entries (left by an earlier crash of this very process name) come next.
    own = client.xreadgroup(GROUP, consumer, {stream: "0"}, count=count)
    if own and own[0][1]:
        return own[0][1]
    new = client.xreadgroup(GROUP, consumer, {stream: ">"}, count=count)
    return new[0][1] if new else []


def flush(max_batches: int = 100, claim_idle_ms: int = CLAIM_IDLE_MS) -> int:
    """Move buffered events from Redis into the database; returns how many were stored.

    Entries that cannot be stored go to the dead letters (``DeadLetterEvent``) with the reason
    and are acknowledged like the stored ones: a poisoned entry never stalls the stream.
    """
    client = redis_client()
    if client is None:
        return 0
    stream = app_settings.EVENT_STREAM
    moved = 0
    try:
        _ensure_group(client, stream)
        for _ in range(max_batches):
            batch = _read_batch(client, stream, app_settings.FLUSH_BATCH_SIZE, claim_idle_ms)
            if not batch:
                break
            # Entries deleted while pending (an erasure) come back without fields: nothing to insert.
            stored, _dead = store([entry_from_stream(message_id, fields) for message_id, fields in batch if fields])
            # Acknowledge only after the insert has committed: a crash before this line leaves the
            # events pending, and the next flush inserts them again as no-ops.
            ids = [message_id for message_id, _ in batch]
            client.xack(stream, GROUP, *ids)
            client.xdel(stream, *ids)
            moved += stored
    except Exception as exc:
        _record_flush(client, error=f"{type(exc).__name__}: {exc}")
        raise
    _record_flush(client)
    return moved


def flush_state_key() -> str:
    return f"{app_settings.EVENT_STREAM}:flush"


def _record_flush(client, error: str = "") -> None:
    """When the flush last succeeded, and its last error, for the health check to tell a stalled
    flush (and why) from a stopped worker."""
    import redis

    now = f"{time.time():.3f}"
    try:
        if error:
            client.hset(flush_state_key(), mapping={"error": clean_text(" ".join(error.split()), 300), "error_at": now})
        else:
            client.hset(flush_state_key(), mapping={"ok_at": now})
    except redis.RedisError:
        pass  # Redis down: the health check says so already


def flush_state(raw: dict[bytes, bytes] | None = None) -> dict[str, Any]:
    """``{"ok_at": epoch seconds or None, "error": text, "error_at": epoch seconds or None}``, from
    ``raw`` (the state hash, read by the caller in its own pipeline) or read here."""
    if raw is None:
        client = redis_client()
        raw = {} if client is None else client.hgetall(flush_state_key())
    state = {key.decode(): value.decode("utf-8", "replace") for key, value in raw.items()}
    return {
        "ok_at": float(state["ok_at"]) if "ok_at" in state else None,
        "error": state.get("error", ""),
        "error_at": float(state["error_at"]) if "error_at" in state else None,
    }


def backlog() -> int | None:
    """Events waiting in the Redis buffer, or None without Redis."""
    client = redis_client()
    return None if client is None else int(client.xlen(app_settings.EVENT_STREAM))
