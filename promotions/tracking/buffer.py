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
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import connections, router, transaction

from ..conf import app_settings
from ..products import get_adapter
from .models import Event

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


def _json_default(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"cannot serialize {type(value).__name__}")


def write(events: list[dict[str, Any]]) -> None:
    """Store captured events: to the Redis buffer when it is up, else straight to the database."""
    if not events:
        return
    if _redis_available():
        import redis

        try:
            messages = [{"e": json.dumps(event, default=_json_default)} for event in events]
            if len(messages) == 1:  # the common case: one round trip, without a pipeline's overhead
                redis_client().xadd(app_settings.EVENT_STREAM, messages[0])
            else:
                pipe = redis_client().pipeline(transaction=False)
                for message in messages:
                    pipe.xadd(app_settings.EVENT_STREAM, message)
                pipe.execute()
            return
        except redis.RedisError:
            logger.warning("promotions: Redis buffer unavailable, writing %d events to the database", len(events))
            _mark_redis_down()
    insert(events)


# Columns written by the fast insert, in order; every other Event column has a default.
_COLUMNS = (
    "event_type", "visitor_id", "user_id", "item_id", "product_id", "promotion_id", "quantity", "unit_price",
    "rating", "review_text", "query", "result_count", "dwell_seconds", "context", "occurred_at", "idempotency_key",
)  # fmt: skip


def _row(event: dict[str, Any], product_pks: dict[str, Any], ops, text_values: bool) -> tuple:
    """One event as a tuple in ``_COLUMNS`` order.

    With ``text_values`` (PostgreSQL's COPY parses text itself) times and prices pass through as
    the strings the buffer holds; otherwise the backend's adapters prepare them.
    """
    get = event.get
    item_id = get("item_id") or ""
    occurred_at, unit_price = event["occurred_at"], get("unit_price")
    if not text_values:
        if isinstance(occurred_at, str):
            occurred_at = datetime.fromisoformat(occurred_at)
        occurred_at = ops.adapt_datetimefield_value(occurred_at)
        if unit_price is not None:
            unit_price = ops.adapt_decimalfield_value(Decimal(unit_price), 12, 4)
    return (
        event["event_type"], event["visitor_id"], get("user_id"), item_id, product_pks.get(item_id),
        get("promotion_id"), get("quantity"), unit_price, get("rating"), get("review_text") or "",
        get("query") or "", get("result_count"), get("dwell_seconds"), json.dumps(get("context") or {}),
        occurred_at, event["idempotency_key"],
    )  # fmt: skip


def insert(events: Iterable[dict[str, Any]]) -> int:
    """Bulk-insert events, skipping any whose idempotency key is already stored.

    The ORM's bulk_create spends most of its time compiling SQL, which caps ingest far below
    what the database takes: PostgreSQL gets COPY into a staging table and one
    ``INSERT ... SELECT ... ON CONFLICT DO NOTHING``; other databases one executemany.
    """
    events = list(events)
    if not events:
        return 0
    item_ids = {event["item_id"] for event in events if event.get("item_id")}
    product_pks = get_adapter().pks_by_ids(list(item_ids)) if item_ids else {}
    connection = connections[router.db_for_write(Event)]
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        use_copy = connection.vendor == "postgresql" and hasattr(cursor.cursor, "copy")  # psycopg 3
        rows = [_row(event, product_pks, connection.ops, text_values=use_copy) for event in events]
        if use_copy:
            _copy_insert(cursor, connection.ops.quote_name, rows)
        else:
            _executemany_insert(cursor, connection.ops.quote_name, rows)
    return len(rows)


def _executemany_insert(cursor, quote, rows: list[tuple]) -> None:
    columns = ", ".join(quote(column) for column in _COLUMNS)
    placeholders = ", ".join(["%s"] * len(_COLUMNS))
    table, key = quote(Event._meta.db_table), quote("idempotency_key")
    sql = f"INSERT INTO {table} ({columns}) VALUES ({placeholders}) ON CONFLICT ({key}) DO NOTHING"  # noqa: S608
    cursor.executemany(sql, rows)


def _copy_insert(cursor, quote, rows: list[tuple]) -> None:
    # The staging table lives in the session; it is emptied first because an insert inside an
    # enclosing transaction (ATOMIC_REQUESTS, a test) would otherwise see the rows of the last one.
    columns = ", ".join(quote(column) for column in _COLUMNS)
    table, key, stage = quote(Event._meta.db_table), quote("idempotency_key"), quote("promotions_event_stage")
    cursor.execute(
        f"CREATE TEMPORARY TABLE IF NOT EXISTS {stage} ON COMMIT DELETE ROWS AS "  # noqa: S608
        f"SELECT {columns} FROM {table} WITH NO DATA"
    )
    cursor.execute(f"TRUNCATE {stage}")
    with cursor.cursor.copy(f"COPY {stage} ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
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
    """Move buffered events from Redis into the database; returns how many were moved."""
    client = redis_client()
    if client is None:
        return 0
    stream = app_settings.EVENT_STREAM
    _ensure_group(client, stream)
    moved = 0
    for _ in range(max_batches):
        batch = _read_batch(client, stream, app_settings.FLUSH_BATCH_SIZE, claim_idle_ms)
        entries = [(message_id, fields) for message_id, fields in batch if fields]
        if not batch:
            break
        insert(json.loads(fields[b"e"]) for _, fields in entries)
        # Acknowledge only after the insert has committed: a crash before this line leaves the
        # events pending, and the next flush inserts them again as no-ops.
        ids = [message_id for message_id, _ in batch]
        client.xack(stream, GROUP, *ids)
        client.xdel(stream, *ids)
        moved += len(entries)
    return moved


def backlog() -> int | None:
    """Events waiting in the Redis buffer, or None without Redis."""
    client = redis_client()
    return None if client is None else int(client.xlen(app_settings.EVENT_STREAM))
