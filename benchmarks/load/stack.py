"""The demo shop's production stack on 127.0.0.1: gunicorn, a Celery worker with beat, Redis, PostgreSQL.

Used by ``benchmarks/load/run.py`` (on the machine's Redis and PostgreSQL, on databases of their
own) and ``benchmarks/faults/run.py`` (on a private redis-server and PostgreSQL cluster it may stop).
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import redis

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
EVENT_STREAM = "promotions:events"  # the app's default PROMOTIONS["EVENT_STREAM"]
FLUSH_GROUP = "promotions-flush"  # promotions.tracking.buffer.GROUP
OPS_TOKEN = "load-test-ops-token"  # reads /promotions/health/
BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"


@dataclass
class Stack:
    """Where the services are, and the processes of the shop started on them."""

    database_url: str
    redis_url: str  # cache and event buffer
    broker_url: str  # Celery's broker: another database of the same Redis
    var_dir: Path  # model artifacts, beat's schedule file
    port: int = 8790
    web_workers: int = 4
    flush_interval: float = 2.0
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "CELERY_"))}
        env.update(
            DJANGO_SETTINGS_MODULE="settings_load",
            PYTHONPATH=f"{ROOT}:{ROOT / 'benchmarks' / 'load'}",
            DATABASE_URL=self.database_url,
            REDIS_URL=self.redis_url,
            CELERY_BROKER_URL=self.broker_url,
            SHOP_VAR_DIR=str(self.var_dir),
            DJANGO_SECRET_KEY="load-test-only-key",  # every process must sign cookies alike
            DJANGO_DEBUG="0",
            PROMOTIONS_FLUSH_INTERVAL=str(self.flush_interval),
            PROMOTIONS_OPS_TOKEN=OPS_TOKEN,
        )
        return env

    # --- data -------------------------------------------------------------------------
    def prepare(self, datasets: Path | None, log: Path) -> None:
        """Create and fill the database as ``manage.py demo --no-serve`` does, unless it already has a model."""
        name = self.database_url.rsplit("/", 1)[1]
        admin_url = self.database_url.rsplit("/", 1)[0] + "/postgres"
        with psycopg.connect(admin_url, autocommit=True) as connection:
            if not connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
                connection.execute(f'CREATE DATABASE "{name}"')
        if self.has_active_model():
            return
        command = [PYTHON, "manage.py", "demo", "--no-serve"]
        # A folder without online-retail/ makes the demo load its small built-in sample.
        command += ["--datasets", str(datasets or self.var_dir / "no-datasets")]
        with log.open("ab") as out:
            subprocess.run(command, cwd=ROOT, env=self.env(), stdout=out, stderr=out, check=True)

    def has_active_model(self) -> bool:
        try:
            with psycopg.connect(self.database_url) as connection:
                sql = "SELECT count(*) FROM promotions_modelversion WHERE status = 'active'"
                row = connection.execute(sql).fetchone()
        except psycopg.Error:  # no tables yet
            return False
        return bool(row and row[0])

    # --- processes --------------------------------------------------------------------
    def start_web(self, log: Path) -> None:
        command = [
            PYTHON, "-m", "gunicorn", "shop_demo.wsgi", "-b", f"127.0.0.1:{self.port}",
            "-w", str(self.web_workers), "--backlog", "2048", "--timeout", "60",
        ]  # fmt: skip
        self._start("web", command, log)
        self.wait_ready()

    def start_worker(self, log: Path) -> None:
        """One Celery worker with embedded beat: the flush every ``flush_interval`` seconds, training daily."""
        command = [
            PYTHON, "-m", "celery", "-A", "shop_demo", "worker", "-B", "--concurrency", "1",
            "--loglevel", "WARNING", "-s", str(self.var_dir / "beat-schedule"),
        ]  # fmt: skip
        self._start("worker", command, log)

    def _start(self, name: str, command: list[str], log: Path) -> None:
        out = log.open("ab")
        # A process group of its own, so stopping it also stops its children (gunicorn's workers).
        self.processes[name] = subprocess.Popen(
            command, cwd=ROOT, env=self.env(), stdout=out, stderr=out, start_new_session=True
        )

    def stop(self, name: str, timeout: float = 30, sig: int = signal.SIGTERM) -> None:
        """Stop a started group: SIGTERM lets it shut down cleanly, SIGKILL is a crash."""
        process = self.processes.pop(name, None)
        if process is None or process.poll() is not None:
            return
        os.killpg(process.pid, sig)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    def stop_all(self) -> None:
        for name in list(self.processes):
            self.stop(name)

    def cpu_seconds(self, name: str) -> float:
        """CPU time (user + system) used so far by the live processes of one started group."""
        group = self.processes[name].pid
        ticks = os.sysconf("SC_CLK_TCK")
        total = 0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:  # the process ended meanwhile
                continue
            if int(fields[2]) == group:  # fields after the command name: state, ppid, pgrp, ...
                total += int(fields[11]) + int(fields[12])
        return total / ticks

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                connection.request("GET", "/", headers={"User-Agent": BROWSER})
                if connection.getresponse().status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.5)
        raise RuntimeError(f"the shop on port {self.port} did not answer within {timeout:.0f} s")

    def health(self) -> tuple[int, list[str]]:
        """The health endpoint's status code and the checks it names as failing."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        connection.request("GET", "/promotions/health/", headers={"Authorization": f"Bearer {OPS_TOKEN}"})
        response = connection.getresponse()
        try:
            failing = json.loads(response.read()).get("failing", [])
        except ValueError:
            failing = ["(not JSON)"]
        return response.status, failing

    # --- the event buffer and the event table -----------------------------------------
    def redis(self) -> redis.Redis:
        return redis.Redis.from_url(self.redis_url, socket_connect_timeout=1, socket_timeout=2)

    def backlog(self) -> int:
        """Events in the Redis buffer: not yet read, or read and not yet acknowledged."""
        return int(self.redis().xlen(EVENT_STREAM))

    def pending(self) -> int:
        """Events read by a flush and not yet acknowledged."""
        try:
            return int(self.redis().xpending(EVENT_STREAM, FLUSH_GROUP)["pending"])
        except redis.ResponseError:  # no flush ran yet: no group
            return 0

    def wait_flush_in_flight(self, timeout: float) -> int:
        """Poll until a flush holds events read and unacknowledged; returns how many (0: none seen)."""
        client, deadline = self.redis(), time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                pending = int(client.xpending(EVENT_STREAM, FLUSH_GROUP)["pending"])
            except redis.ResponseError:
                pending = 0
            if pending:
                return pending
        return 0

    def redis_now_ms(self) -> int:
        """Redis's clock in milliseconds: stream ids carry it."""
        seconds, microseconds = self.redis().time()
        return seconds * 1000 + microseconds // 1000

    def wait_drained(self, timeout: float = 300, cutoff_ms: int | None = None) -> float:
        """Wait until the worker flushed every event buffered before ``cutoff_ms`` (default: now).

        Under continuing load the stream is never empty for long, so what counts is that no event
        older than the cutoff is left. Returns the seconds waited."""
        client, started = self.redis(), time.monotonic()
        cutoff = self.redis_now_ms() if cutoff_ms is None else cutoff_ms
        while True:
            first = client.xrange(EVENT_STREAM, count=1)
            if not first or int(first[0][0].split(b"-")[0]) >= cutoff:
                return time.monotonic() - started
            if time.monotonic() - started > timeout:
                raise RuntimeError(f"events buffered before the cutoff are still there after {timeout:.0f} s")
            time.sleep(0.25)

    def stored_counts(self, visitor_ids: list[str]) -> dict[tuple[str, str], int]:
        """Stored events per (visitor, type) of these visitors."""
        sql = (
            "SELECT visitor_id, event_type, count(*) FROM promotions_event"
            " WHERE visitor_id = ANY(%s) GROUP BY visitor_id, event_type"
        )
        with psycopg.connect(self.database_url) as connection:
            return {(vid, kind): n for vid, kind, n in connection.execute(sql, [visitor_ids])}

    def stored_keys(self, keys: list[str]) -> set[str]:
        with psycopg.connect(self.database_url) as connection:
            sql = "SELECT idempotency_key FROM promotions_event WHERE idempotency_key = ANY(%s)"
            return {key for (key,) in connection.execute(sql, [keys])}

    def event_total(self, visitor_ids: list[str]) -> int:
        with psycopg.connect(self.database_url, connect_timeout=2) as connection:
            sql = "SELECT count(*) FROM promotions_event WHERE visitor_id = ANY(%s)"
            return int(connection.execute(sql, [visitor_ids]).fetchone()[0])
