"""Fault scenarios: Redis, the Celery worker and PostgreSQL stopped one at a time under load, and
poisoned entries of every kind written into the event buffer between good ones.

Run from the repository root (as root or the postgres user; needs redis-server and PostgreSQL's
initdb/pg_ctl, nothing else running on ports 5440, 6390 and 8791):
    .venv/bin/python benchmarks/faults/run.py [--outage 20] [--concurrency 4] [--scenarios redis,...,poison]

The machine's shared Redis and PostgreSQL are never touched: the script starts its own
redis-server (append-only file, as a production buffer would be configured) on port 6390 and
its own PostgreSQL cluster (initdb in a temporary folder) on port 5440, fills it with the demo's
built-in sample shop, and starts gunicorn and a Celery worker with beat as
``benchmarks/load/run.py`` does. Shoppers keep visiting throughout; each service is stopped
for ``--outage`` seconds and started again, and the worker is also killed (SIGKILL). Checked
per scenario: how pages answered during the outage, where events went, that the backlog drained
after recovery; at the end, that every event the shoppers caused is stored exactly once. The
poison scenario writes entries the flush cannot store (NUL, lone surrogate, oversize, broken
JSON, wrong types) between good ones (an unknown product among them) straight into the stream,
as an older release or a misbehaving writer could, and sends the issue's NUL search: every good
entry must be stored once, every poisoned one dead-lettered, none lost. Prints
a Markdown table; exits 1 if any check failed. The fallback to the previous model version when
an artifact is corrupt or missing is tested in tests/training/test_pipeline.py and
tests/faults/test_model_artifacts.py.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "load"))

import psycopg  # noqa: E402
from driver import Driver, Ledger, Result, Shopper, check_counts  # noqa: E402
from stack import EVENT_STREAM, OPS_TOKEN, Stack  # noqa: E402

PG_BIN = Path("/usr/lib/postgresql/15/bin")
PG_PORT, REDIS_PORT, WEB_PORT = 5440, 6390, 8791
PAGE_KINDS = {"home", "category", "search", "product", "cart", "cart_add", "checkout"}
SCENARIOS = ("redis", "worker", "worker-kill", "postgres", "poison")


class PrivateRedis:
    """A redis-server of our own, with an append-only file so a stop and start keeps the buffer."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        command = [
            "redis-server", "--port", str(REDIS_PORT), "--bind", "127.0.0.1", "--save", "",
            "--appendonly", "yes", "--appendfsync", "always", "--dir", str(self.folder),
        ]  # fmt: skip
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(lambda: _redis_ping(REDIS_PORT), "redis-server")

    def stop(self) -> None:
        # SIGTERM: Redis's own shutdown, as a service manager's stop does.
        if self.process is not None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=30)
            self.process = None


class PrivatePostgres:
    """A PostgreSQL cluster of our own in a temporary folder, owned by the postgres user."""

    def __init__(self, folder: Path) -> None:
        self.data = folder / "pgdata"
        self.as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.as_postgres:
            shutil.chown(folder, "postgres")
        self._run([PG_BIN / "initdb", "-D", self.data, "-U", "postgres", "-A", "trust", "--no-sync"])

    def _run(self, command: list) -> None:
        subprocess.run([*self.as_postgres, *map(str, command)], check=True, capture_output=True)

    def start(self) -> None:
        options = f"-p {PG_PORT} -k {self.data} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run([PG_BIN / "pg_ctl", "-D", self.data, "-o", options, "-l", self.data / "log", "-w", "start"])

    def stop(self) -> None:
        # Fast shutdown: open connections are cut, as when the database server goes away.
        self._run([PG_BIN / "pg_ctl", "-D", self.data, "-m", "fast", "-w", "stop"])


def _redis_ping(port: int) -> bool:
    import redis

    try:
        return bool(redis.Redis(port=port, socket_connect_timeout=0.5).ping())
    except redis.RedisError:
        return False


def wait_for(condition, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not come up within {timeout:.0f} s")
        time.sleep(0.2)


@dataclass
class Outcome:
    scenario: str
    statuses: str  # answers during the outage, by kind of request
    health: str  # what /promotions/health/ said during the outage
    checks: list[tuple[str, bool]]  # what held


def statuses(results: list[Result], kinds: set[str]) -> Counter:
    return Counter(result.status for result in results if result.kind in kinds)


def describe(results: list[Result]) -> str:
    pages = statuses(results, PAGE_KINDS)
    beacons = statuses(results, {"beacon", "open tab beacon"})

    def text(counter: Counter) -> str:
        return ", ".join(f"{n} x {status or 'no answer'}" for status, n in sorted(counter.items())) or "none"

    return f"pages: {text(pages)}; beacons: {text(beacons)}"


def ok(counter: Counter) -> bool:
    return bool(counter) and all(200 <= status < 400 for status in counter)


class Faults:
    def __init__(self, stack: Stack, driver: Driver, ledger: Ledger, outage: float, log: Path) -> None:
        self.stack, self.driver, self.ledger, self.outage, self.log = stack, driver, ledger, outage, log

    def window(self, seconds: float) -> list[Result]:
        first = len(self.driver.results)
        time.sleep(seconds)
        return self.driver.results[first:]

    def health(self) -> tuple[str, set[str]]:
        status, failing = self.stack.health()
        return f"{status}, failing: {', '.join(failing) or 'none'}", set(failing)

    def stored(self) -> int:
        return self.stack.event_total(sorted(self.ledger.counts))

    def recover(self, checks: list) -> None:
        """The service is back: pages answer, and what was buffered until now is flushed."""
        started, cutoff = time.monotonic(), self.stack.redis_now_ms()
        # Requests sent during the outage may answer just after it: only those sent since count.
        after = [result for result in self.window(8) if result.started >= started]
        checks.append(("pages answer normally again", ok(statuses(after, PAGE_KINDS))))
        self.stack.wait_drained(timeout=180, cutoff_ms=cutoff)
        checks.append((f"backlog drained {time.monotonic() - started:.0f} s after recovery", True))

    def without_redis(self, redis_server: PrivateRedis) -> Outcome:
        redis_server.stop()
        time.sleep(1)  # flushes in flight end
        stored_start = self.stored()
        results = self.window(self.outage)
        stored_during = self.stored() - stored_start
        health, failing = self.health()
        redis_server.start()
        checks = [
            ("every page answered (2xx/3xx)", ok(statuses(results, PAGE_KINDS))),
            ("beacons accepted (202)", ok(statuses(results, {"beacon"}))),
            (f"events went to the database during the outage ({stored_during:,} stored)", stored_during > 0),
            ("the health endpoint reported the cache and the buffer failing", {"cache", "buffer"} <= failing),
        ]
        self.recover(checks)
        return Outcome("Redis stopped", describe(results), health, checks)

    def without_worker(self, sig: int = signal.SIGTERM) -> Outcome:
        # A kill aims at a flush under way (events read and not yet acknowledged), the case that
        # leaves work for the next worker: it claims them once they are idle for a minute.
        in_flight = self.stack.wait_flush_in_flight(timeout=30) if sig == signal.SIGKILL else 0
        self.stack.stop("worker", sig=sig)
        time.sleep(1)
        stored_start, backlog_start = self.stored(), self.stack.backlog()
        results = self.window(self.outage)
        stored_during = self.stored() - stored_start
        backlog_end = self.stack.backlog()
        health, _ = self.health()
        left = self.stack.pending()  # what the dead worker had read and not acknowledged
        self.stack.start_worker(self.log)
        checks = [
            ("every page answered (2xx/3xx)", ok(statuses(results, PAGE_KINDS))),
            ("beacons accepted (202)", ok(statuses(results, {"beacon"}))),
            (f"events waited in the buffer ({backlog_start:,} -> {backlog_end:,})", backlog_end > backlog_start),
            (f"none reached the database meanwhile ({stored_during:,})", stored_during == 0),
        ]
        if sig == signal.SIGKILL:
            where = f"inside a flush ({in_flight:,} events read, {left:,} left unacknowledged)"
            checks.insert(0, (f"killed {where if in_flight else 'between flushes (none caught in 30 s)'}", True))
        self.recover(checks)
        scenario = "Celery worker stopped" if sig == signal.SIGTERM else "Celery worker killed (SIGKILL)"
        return Outcome(scenario, describe(results), health, checks)

    def open_tabs(self, count: int) -> list[tuple[Shopper, str, str, str]]:
        """Shoppers with a product page open: their beacons keep coming when the database goes away.
        Every other one has a cart, so a session cookie."""
        tabs = []
        for index in range(count):
            shopper = Shopper(self.driver, random.Random(10_000 + index))
            shopper.request("home", "GET", "/")
            code = shopper.rng.choice(self.driver.products)
            page = f"/product/{code}/"
            status, _, html = shopper.request("product", "GET", page)
            if status != 200 or not shopper.visitor_id:
                continue
            self.ledger.add(shopper.visitor_id, "view")
            if index % 2:
                shopper.add_to_cart(code)
            tabs.append((shopper, html, page, code))
        return tabs

    def without_postgres(self, postgres: PrivatePostgres) -> Outcome:
        tabs = self.open_tabs(6)
        stop = threading.Event()

        def keep_sending() -> None:
            while not stop.wait(0.5):
                for shopper, html, page, code in tabs:
                    shopper.send_beacon(html, page, code, kind="open tab beacon")

        backlog_start = self.stack.backlog()
        tracebacks_before = self.driver.tracebacks
        postgres.stop()
        sender = threading.Thread(target=keep_sending)
        sender.start()
        results = self.window(self.outage)
        health, failing = self.health()
        stop.set()
        sender.join()
        backlog_end = self.stack.backlog()
        postgres.start()
        pages = statuses(results, PAGE_KINDS)
        tab_beacons = statuses(results, {"open tab beacon"})
        checks = [
            ("pages answered 503 or worked, never 500", bool(pages) and set(pages) <= {200, 302, 503}),
            ("no traceback in any error page", self.driver.tracebacks == tracebacks_before),
            ("open tabs' beacons accepted (202)", ok(tab_beacons)),
            (f"events waited in the Redis buffer ({backlog_start:,} -> {backlog_end:,})", backlog_end > backlog_start),
            ("the health endpoint reported the database failing", "database" in failing),
        ]
        self.recover(checks)
        return Outcome("PostgreSQL stopped", describe(results), health, checks)

    def poisoned_entries(self, rounds: int = 60) -> tuple[Outcome, PoisonCounts]:
        """Each round writes, straight into the stream, good entries (one naming an unknown product)
        with a poisoned entry of every kind between them, while the shoppers keep visiting."""
        client = self.stack.redis()
        stamp = time.time_ns()
        good_keys, bad_keys, bad_sources = [], [], []
        first = len(self.driver.results)
        for round_ in range(rounds):
            for kind, make in POISON.items():
                key = f"poison-bench:{stamp}:{round_}:{kind}"
                client.xadd(EVENT_STREAM, {"r": json.dumps(buffered_row(key + ":before"))})
                bad_sources.append(client.xadd(EVENT_STREAM, make(key + ":bad")).decode())
                item = "NO-SUCH-PRODUCT" if kind == "broken JSON" else ""
                client.xadd(EVENT_STREAM, {"r": json.dumps(buffered_row(key + ":after", item_id=item))})
                good_keys += [key + ":before", key + ":after"]
                bad_keys.append(key + ":bad")
            time.sleep(0.05)
        # The reproduction over HTTP: a consenting shopper searches with a NUL after 100 characters.
        shopper = Shopper(self.driver, random.Random(99))
        shopper.request("home", "GET", "/")
        nul_status, _, _ = shopper.request("nul search", "GET", "/search/?q=" + "a" * 100 + "%00")
        self.stack.wait_drained(timeout=120)
        time.sleep(self.stack.flush_interval * 2)  # the last batch committed and acknowledged
        results = self.driver.results[first:]
        counts = PoisonCounts(
            good_sent=len(good_keys),
            good_stored=len(self.stack.stored_keys(good_keys)),
            bad_sent=len(bad_sources),
            dead_lettered=dead_lettered(self.stack, bad_sources),
            bad_stored=len(self.stack.stored_keys(bad_keys)),
        )
        health, _failing = self.health()
        warnings = health_warnings(self.stack)
        checks = [
            ("every page answered (2xx/3xx)", ok(statuses(results, PAGE_KINDS))),
            (f"good entries stored exactly once ({counts.good_stored:,} of {counts.good_sent:,})",
             counts.good_stored == counts.good_sent),
            (f"poisoned entries dead-lettered ({counts.dead_lettered:,} of {counts.bad_sent:,}, none stored)",
             counts.dead_lettered == counts.bad_sent and counts.bad_stored == 0),
            (f"lost: {counts.lost}", counts.lost == 0),
            (f"the NUL search answered {nul_status}, not 500", nul_status != 500),
            ("the health endpoint warned of the dead letters", "buffer" in warnings),
            ("the backlog drained", True),
        ]  # fmt: skip
        health += f"; warnings: {', '.join(warnings) or 'none'}"
        return Outcome("Poisoned buffer entries", describe(results), health, checks), counts


def buffered_row(key: str, **changes) -> list:
    """A buffered event as the app writes it (promotions.tracking.buffer.COLUMNS order)."""
    columns = {
        "event_type": "view", "visitor_id": "poison-test-visitor", "user_id": None, "item_id": "", "product_id": None,
        "promotion_id": None, "quantity": None, "unit_price": None, "rating": None, "review_text": "", "query": "",
        "result_count": None, "dwell_seconds": None, "context": "{}",
        "occurred_at": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime()), "idempotency_key": key,
    }  # fmt: skip
    columns.update(changes)
    return list(columns.values())


#: Poisoned entries by kind: the stream fields each writes (given a fresh key).
POISON = {
    "NUL": lambda key: {"r": json.dumps(buffered_row(key, query="a" * 100 + "\x00"))},
    "lone surrogate": lambda key: {"r": json.dumps(buffered_row(key, item_id="\ud800x"))},
    "oversize": lambda key: {"r": json.dumps(buffered_row(key, item_id="x" * 65, query="q" * 201))},
    "broken JSON": lambda key: {"r": b'["view", "poison-test-visitor", '},
    "wrong types": lambda key: {"r": json.dumps(buffered_row(key, quantity="three", visitor_id=5))},
}


@dataclass
class PoisonCounts:
    good_sent: int
    good_stored: int
    bad_sent: int
    dead_lettered: int
    bad_stored: int

    @property
    def lost(self) -> int:
        return self.good_sent - self.good_stored + self.bad_sent - self.dead_lettered - self.bad_stored


def dead_lettered(stack: Stack, sources: list[str]) -> int:
    with psycopg.connect(stack.database_url) as connection:
        sql = "SELECT count(*) FROM promotions_deadletterevent WHERE source_id = ANY(%s)"
        return int(connection.execute(sql, [sources]).fetchone()[0])


def health_warnings(stack: Stack) -> list[str]:
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", stack.port, timeout=30)
    connection.request("GET", "/promotions/health/", headers={"Authorization": f"Bearer {OPS_TOKEN}"})
    return json.loads(connection.getresponse().read()).get("warnings", [])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--outage", type=float, default=20.0, help="seconds each service stays down (default 20)")
    parser.add_argument("--concurrency", type=int, default=4, help="shoppers during the scenarios (default 4)")
    parser.add_argument(
        "--scenarios", default=",".join(SCENARIOS), help=f"comma-separated, of {', '.join(SCENARIOS)} (default all)"
    )
    args = parser.parse_args()
    chosen = [name.strip() for name in args.scenarios.split(",") if name.strip()]
    if args.outage <= 0 or args.concurrency < 1 or not chosen or set(chosen) - set(SCENARIOS):
        print(f"error: --outage and --concurrency must be positive, --scenarios of {', '.join(SCENARIOS)}",
              file=sys.stderr)  # fmt: skip
        return 2

    folder = Path(tempfile.mkdtemp(prefix="promotions-faults-"))
    log = folder / "stack.log"
    print(f"Working in {folder} (logs: {log})", flush=True)
    redis_server, postgres = PrivateRedis(folder), PrivatePostgres(folder)
    stack = Stack(
        f"postgres://postgres@127.0.0.1:{PG_PORT}/promotions_faults",
        f"redis://127.0.0.1:{REDIS_PORT}/0",
        f"redis://127.0.0.1:{REDIS_PORT}/1",
        folder / "var",
        port=WEB_PORT,
        web_workers=2,
    )
    outcomes: list[Outcome] = []
    ledger = Ledger()
    try:
        redis_server.start()
        postgres.start()
        stack.prepare(None, log)
        stack.start_worker(log)
        stack.start_web(log)
        driver = Driver(stack.port, ledger, timeout=15)
        driver.discover()
        driver.start(args.concurrency)
        faults = Faults(stack, driver, ledger, args.outage, log)
        faults.window(10)  # steady state first
        poison: PoisonCounts | None = None

        def poisoned() -> Outcome:
            nonlocal poison
            outcome, poison = faults.poisoned_entries()
            return outcome

        scenarios = {
            "redis": ("Redis", lambda: faults.without_redis(redis_server)),
            "worker": ("the worker", faults.without_worker),
            "worker-kill": ("the worker (SIGKILL)", lambda: faults.without_worker(signal.SIGKILL)),
            "postgres": ("PostgreSQL", lambda: faults.without_postgres(postgres)),
            "poison": ("nothing; poisoning the buffer", poisoned),
        }
        for key in chosen:
            name, scenario = scenarios[key]
            print(f"Stopping {name} for {args.outage:.0f} s" if key != "poison" else "Poisoning the buffer", flush=True)
            outcomes.append(scenario())
            faults.window(5)
        driver.stop()
        stack.wait_drained(timeout=120)
        time.sleep(stack.flush_interval)
        counts = check_counts(stack, ledger)
    finally:
        stack.stop_all()
        for service in (postgres, redis_server):
            try:
                service.stop()
            except (subprocess.SubprocessError, OSError):
                pass
    print(report(outcomes, counts, len(ledger.counts), args, poison))
    # The logs stay for a look at what the services said; the database cluster and buffer go.
    shutil.rmtree(folder / "pgdata", ignore_errors=True)
    shutil.rmtree(folder / "var", ignore_errors=True)
    return 0 if counts.exact and all(held for outcome in outcomes for _, held in outcome.checks) else 1


def report(
    outcomes: list[Outcome], counts, visitors: int, args: argparse.Namespace, poison: PoisonCounts | None = None
) -> str:
    lines = [
        f"{args.concurrency} shoppers throughout; each service down {args.outage:.0f} s; load average"
        f" {os.getloadavg()[0]:.2f}",
        "",
        "| scenario | answers during the outage | /promotions/health/ at its end | what held |",
        "|---|---|---|---|",
    ]
    for outcome in outcomes:
        held = "; ".join(f"{'yes' if good else 'NO'}: {what}" for what, good in outcome.checks)
        lines.append(f"| {outcome.scenario} | {outcome.statuses} | {outcome.health} | {held} |")
    verdict = "every event stored exactly once" if counts.exact else "MISMATCH"
    lines += ["", f"After all scenarios, {visitors:,} visitors: {verdict}", "", counts.table()]
    if poison is not None:
        lines += [
            "",
            "| poisoned-entry scenario | sent | stored | dead-lettered | lost |",
            "|---|---:|---:|---:|---:|",
            f"| good entries | {poison.good_sent:,} | {poison.good_stored:,} | 0 | |",
            f"| poisoned entries ({', '.join(POISON)}) | {poison.bad_sent:,} | {poison.bad_stored:,} "
            f"| {poison.dead_lettered:,} | |",
            f"| all | {poison.good_sent + poison.bad_sent:,} | {poison.good_stored + poison.bad_stored:,} "
            f"| {poison.dead_lettered:,} | {poison.lost:,} |",
        ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
