"""Without a broker, the embedded worker and beat really run the periodic work (real Redis, real Celery)."""

import json
import os
import sqlite3
import subprocess
import sys
import time
import uuid

import pytest
from django.conf import settings
from django.utils import timezone

from promotions.tracking import buffer
from shop_demo.embedded import start_embedded_worker


@pytest.fixture
def embedded_env(tmp_path, redis_url):
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "CELERY_BROKER_URL"}}
    env.update(
        SHOP_VAR_DIR=str(tmp_path),
        REDIS_URL=redis_url,  # TEST_REDIS_URL's database, emptied by the fixture: never another one
        DJANGO_SETTINGS_MODULE="shop_demo.settings",
        PROMOTIONS_FLUSH_INTERVAL="1",
    )
    subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "migrate", "-v0"], cwd=settings.BASE_DIR, env=env, check=True, timeout=120
    )
    return env


def test_beat_flushes_the_event_buffer_on_schedule(embedded_env, tmp_path):
    import redis

    client = redis.Redis.from_url(embedded_env["REDIS_URL"])
    client.flushdb()
    keys = [uuid.uuid4().hex for _ in range(3)]
    for key in keys:
        event = {
            "event_type": "view",
            "visitor_id": "v" * 32,
            "item_id": "85123A",
            "occurred_at": timezone.now().isoformat(),
            "idempotency_key": key,
        }
        client.xadd("promotions:events", {"r": json.dumps(buffer.to_row(event))})
    log = open(tmp_path / "worker.log", "wb")  # noqa: SIM115
    worker = start_embedded_worker(env=embedded_env, log_file=log)
    try:
        stored = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(stored) < 3:
            time.sleep(1)
            with sqlite3.connect(tmp_path / "db.sqlite3") as db:
                stored = db.execute("SELECT idempotency_key FROM promotions_event").fetchall()
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        log.close()
    assert sorted(k for (k,) in stored) == sorted(keys), (tmp_path / "worker.log").read_text()[-3000:]
    assert client.xlen("promotions:events") == 0
