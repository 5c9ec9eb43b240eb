"""Ingest: events per second from the Redis buffer into PostgreSQL through the flush task.

Run from the repository root (Redis and PostgreSQL on 127.0.0.1):
    .venv/bin/python benchmarks/ingest.py [EVENTS]

Writes EVENTS events to the Redis stream the way requests do, then times the flush task moving
them into the full Event table (all indexes, the unique idempotency key). The baseline measured
in the same run is the ORM's bulk_create(ignore_conflicts=True) of the same events.
"""

import os
import sys
import time
import uuid
from datetime import timedelta

from _setup import django_env, ensure_database, load_catalogue, setup_django

REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")  # the database is emptied
BATCH = int(os.environ.get("BATCH", "5000"))


def make_events(n: int, item_ids: list[str]) -> list[dict]:
    from django.utils import timezone

    from promotions.tracking.capture import time_ordered_key

    now = timezone.now()
    types = ["view", "view", "view", "add_to_cart", "purchase", "promotion_impression"]
    return [
        {
            "event_type": types[i % len(types)],
            "visitor_id": uuid.uuid4().hex,
            "item_id": item_ids[i % len(item_ids)],
            "quantity": 1 if i % 6 in (3, 4) else None,
            "unit_price": "2.55" if i % 6 == 4 else None,
            "context": {"path": "/product/85123A/", "device": "desktop"},
            "occurred_at": now - timedelta(seconds=i),
            "idempotency_key": time_ordered_key(),  # as requests make them
        }
        for i in range(n)
    ]


def main(n: int) -> None:
    env = django_env(REDIS_URL=REDIS_URL)
    ensure_database(env)
    load_catalogue(env)
    setup_django(env)
    from shop_demo.models import Product

    item_ids = list(Product.objects.values_list("stock_code", flat=True))
    from django.conf import settings
    from django.test import override_settings

    from promotions.tracking import buffer
    from promotions.tracking.models import Event

    Event.objects.all().delete()
    client = buffer.redis_client()
    client.flushdb()
    with override_settings(PROMOTIONS={**settings.PROMOTIONS, "REDIS_URL": REDIS_URL, "FLUSH_BATCH_SIZE": BATCH}):
        for start in range(0, n, 1000):
            buffer.write(make_events(min(1000, n - start), item_ids))
        assert buffer.backlog() == n
        started = time.perf_counter()
        moved = buffer.flush(max_batches=10_000)
        flush_seconds = time.perf_counter() - started
    assert moved == n and Event.objects.count() == n, (moved, Event.objects.count())

    Event.objects.all().delete()
    events = make_events(n, item_ids)
    started = time.perf_counter()
    Event.objects.bulk_create(
        [Event(**{k: v for k, v in e.items()}) for e in events], batch_size=5000, ignore_conflicts=True
    )
    orm_seconds = time.perf_counter() - started
    Event.objects.all().delete()

    print(f"Ingest of {n:,} events into PostgreSQL (full Event schema, indexes, unique idempotency key)")
    print(f"  flush task (Redis stream -> INSERT ... ON CONFLICT DO NOTHING): {n / flush_seconds:,.0f} events/s")
    print(f"  baseline, ORM bulk_create(ignore_conflicts=True):            {n / orm_seconds:,.0f} events/s")
    print(f"  ratio flush / baseline: {orm_seconds / flush_seconds:.2f}x")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
