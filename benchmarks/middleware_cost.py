"""Middleware cost: the demo's product page served by gunicorn with and without TrackingMiddleware.

Run from the repository root (PostgreSQL and Redis on 127.0.0.1):
    .venv/bin/python benchmarks/middleware_cost.py [REQUESTS_PER_ROUND] [ROUNDS]

Three gunicorn servers (one sync worker each, DEBUG off) serve the same product page with its
real database queries: without the middleware (the baseline), with it and the Redis buffer, and
with it and the database fallback (no Redis). One keep-alive client sends requests to each in
turn, round after round, so load from elsewhere on the machine hits all three alike. A visitor
who consented is simulated, so every request records a view event.

Two figures per variant. *Visitor latency*: requests paced 20 ms apart, as a worker that is not
saturated sees them; events are written when the response is closed, after the body went out,
so the visitor does not wait for the buffer. *Worker time*: requests back to back, so the work
done after the response (the buffer write) delays the next request and is counted too.
"""

import http.client
import os
import statistics
import subprocess
import sys
import time

from _setup import ROOT, django_env, ensure_database, load_catalogue

REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/12")  # the database is emptied
VARIANTS = {
    "without middleware (baseline)": {"DJANGO_SETTINGS_MODULE": "settings_without_tracking"},
    "with middleware, Redis buffer": {"REDIS_URL": REDIS_URL},
    "with middleware, database fallback": {},
}
BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"


def start_servers(base_env: dict[str, str]) -> dict[str, tuple[subprocess.Popen, int]]:
    servers = {}
    for port, (name, extra) in enumerate(VARIANTS.items(), start=8761):
        env = {**base_env, **extra}
        env["PYTHONPATH"] = f"{ROOT}:{ROOT / 'benchmarks'}"
        command = [sys.executable, "-m", "gunicorn", "shop_demo.wsgi", "-b", f"127.0.0.1:{port}", "-w", "1"]
        servers[name] = (subprocess.Popen(command, cwd=ROOT, env=env, stderr=subprocess.DEVNULL), port)
    return servers


def wait_ready(port: int, path: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", path, headers={"User-Agent": BROWSER})
            if connection.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"server on port {port} did not answer")


def run_round(port: int, path: str, cookie: str, n: int, pause: float = 0.0) -> list[float]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    headers = {"User-Agent": BROWSER, "Cookie": cookie}
    latencies = []
    for _ in range(n):
        time.sleep(pause)
        started = time.perf_counter()
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        response.read()
        latencies.append((time.perf_counter() - started) * 1000)
        assert response.status == 200, response.status
    connection.close()
    return latencies


def visitor_cookie(port: int, path: str) -> str:
    """The consent cookie plus the visitor cookie the middleware issues on a first visit."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", path, headers={"User-Agent": BROWSER, "Cookie": "shop_consent=yes"})
    response = connection.getresponse()
    response.read()
    issued = [value.split(";")[0] for key, value in response.getheaders() if key.lower() == "set-cookie"]
    return "; ".join(["shop_consent=yes", *issued])


def main(per_round: int, rounds: int) -> None:
    env = django_env()
    ensure_database(env)
    load_catalogue(env, None)
    path = "/product/S0001/"
    servers = start_servers(env)
    try:
        for _, port in servers.values():
            wait_ready(port, path)
        cookies = {name: visitor_cookie(port, path) for name, (_, port) in servers.items()}
        for name, (_, port) in servers.items():  # warm-up
            run_round(port, path, cookies[name], 100)
        for label, pause in (("visitor latency, requests 20 ms apart", 0.02), ("worker time, back to back", 0.0)):
            results: dict[str, list[float]] = {name: [] for name in servers}
            for _ in range(rounds):
                for name, (_, port) in servers.items():
                    results[name] += run_round(port, path, cookies[name], per_round, pause)
            report(f"{label}, {per_round * rounds:,} requests per variant", results)
    finally:
        for process, _ in servers.values():
            process.terminate()
            process.wait()


def report(title: str, results: dict[str, list[float]]) -> None:
    baseline = results["without middleware (baseline)"]
    base_p50 = statistics.median(baseline)
    base_p99 = statistics.quantiles(baseline, n=100)[98]
    print(f"Product page through gunicorn (1 sync worker): {title}")
    for name, latencies in results.items():
        p50, p99 = statistics.median(latencies), statistics.quantiles(latencies, n=100)[98]
        print(
            f"  {name:36s} p50 {p50:6.2f} ms  p99 {p99:6.2f} ms  added p50 {p50 - base_p50:+.2f} ms"
            f"  added p99 {p99 - base_p99:+.2f} ms  ratio {p50 / base_p50:.3f}"
        )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000, int(sys.argv[2]) if len(sys.argv) > 2 else 5)
