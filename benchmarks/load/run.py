"""Load test of the demo shop on its production stack, with the end-to-end event count check.

Run from the repository root (Redis and PostgreSQL on 127.0.0.1):
    .venv/bin/python benchmarks/load/run.py [--duration 60] [--concurrency 1 4 16 64] [--workers 4]
        [--datasets ../shared/datasets | --sample]

It prepares the database promotions_load as ``manage.py demo --no-serve`` does (catalogue,
order history imported as events, example promotions, trained models; skipped when the database
already has an active model), starts gunicorn (sync workers) and a Celery worker with beat
(flushing the Redis buffer, db 13 of the local Redis, every 2 s; broker on db 14), then drives
simulated shoppers at each concurrency for ``--duration`` seconds. Afterwards it waits for the
buffer to drain and checks, visitor by visitor, that the database holds every event the shoppers
caused exactly once. Prints a Markdown table with the machine's load average.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from driver import Driver, Ledger, Result, check_counts, summarize
from stack import ROOT, Stack

DATABASE_URL = "postgres://postgres@127.0.0.1:5432/promotions_load"
REDIS_URL = "redis://127.0.0.1:6379/13"
BROKER_URL = "redis://127.0.0.1:6379/14"
WORK_DIR = Path("/tmp/promotions_load")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=60.0, help="seconds per concurrency (default 60)")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 4, 16, 64])
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers (default 4)")
    parser.add_argument("--datasets", type=Path, default=ROOT.parent / "shared" / "datasets")
    parser.add_argument("--sample", action="store_true", help="the demo's small built-in catalogue (fast set-up)")
    args = parser.parse_args()
    if args.duration <= 0 or any(n < 1 for n in args.concurrency):
        print("error: --duration and --concurrency must be positive", file=sys.stderr)
        return 2

    WORK_DIR.mkdir(parents=True, exist_ok=True)
    load_before = os.getloadavg()[0]
    database_url = DATABASE_URL + ("_sample" if args.sample else "")
    stack = Stack(database_url, REDIS_URL, BROKER_URL, WORK_DIR / ("var-sample" if args.sample else "var"))
    stack.web_workers = args.workers
    log = WORK_DIR / "stack.log"
    print(f"Preparing {database_url.rsplit('/', 1)[1]} (log: {log})", flush=True)
    stack.prepare(None if args.sample else args.datasets, log)
    stack.redis().delete("promotions:events")  # a buffer left by an interrupted run belongs to no ledger
    ledger = Ledger()
    try:
        stack.start_worker(log)
        stack.start_web(log)
        driver = Driver(stack.port, ledger)
        driver.discover()
        print(f"{len(driver.products)} products in {len(driver.categories)} categories", flush=True)
        rows = []
        for concurrency in args.concurrency:
            started, web_cpu = time.monotonic(), stack.cpu_seconds("web")
            results = driver.run(concurrency, args.duration)
            figures = summarize(results, time.monotonic() - started)
            # CPU per request tells the shop's own cost apart from the machine's other load.
            figures["cpu_ms"] = (stack.cpu_seconds("web") - web_cpu) * 1000 / max(figures["requests"], 1)
            figures["load"] = os.getloadavg()[0]
            rows.append((concurrency, figures))
            print(
                f"  c={concurrency:<3} {figures['rps']:6.1f} req/s  p50 {figures['p50']:7.1f} ms"
                f"  p99 {figures['p99']:7.1f} ms  errors {figures['error_rate']:.2%}  load {figures['load']:.2f}",
                flush=True,
            )
        by_kind = per_kind(driver.results)
        drain = stack.wait_drained()
        time.sleep(stack.flush_interval)
        counts = check_counts(stack, ledger)
    finally:
        stack.stop_all()
    print()
    print(report(rows, args, drain, counts, len(ledger.counts), by_kind, load_before))
    return 0 if counts.exact else 1


def per_kind(results: list[Result]) -> dict[str, dict[str, float]]:
    kinds = sorted({result.kind for result in results} - {"discover"})
    return {kind: summarize([r for r in results if r.kind == kind], 1.0) for kind in kinds}


def report(
    rows: list, args: argparse.Namespace, drain: float, counts, visitors: int, by_kind: dict, load_before: float
) -> str:
    lines = [
        f"gunicorn {args.workers} sync workers, 1 Celery worker with beat (flush every 2 s), Redis, PostgreSQL;"
        f" {args.duration:.0f} s per concurrency; {os.cpu_count()} CPUs, 1-minute load average {load_before:.2f}"
        " before the run (other work on the machine) and at the end of each step",
        "",
        "| concurrent shoppers | requests | throughput (req/s) | p50 (ms) | p99 (ms) | errors"
        " | web CPU per request (ms) | load average |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for concurrency, f in rows:
        lines.append(
            f"| {concurrency} | {f['requests']:,} | {f['rps']:.1f} | {f['p50']:.0f} | {f['p99']:.0f} |"
            f" {f['errors']} ({f['error_rate']:.2%}) | {f['cpu_ms']:.0f} | {f['load']:.2f} |"
        )
    lines += ["", "All steps together, by request:", "", "| request | count | p50 (ms) | p99 (ms) | errors |"]
    lines.append("|---|---:|---:|---:|---:|")
    for kind, f in by_kind.items():
        lines.append(f"| {kind} | {f['requests']:,} | {f['p50']:.0f} | {f['p99']:.0f} | {f['errors']} |")
    lines += [
        "",
        f"End-to-end count check, {visitors:,} visitors, buffer drained {drain:.1f} s after the load:"
        f" {'every event stored exactly once' if counts.exact else 'MISMATCH'}",
        "",
        counts.table(),
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
