"""Cost of the health checks (promotions.ops) against PostgreSQL, Redis (cache and event buffer) and a Redis broker.

Run from the repository root:  .venv/bin/python benchmarks/ops_health.py [ROUNDS]

Prints each check's median, all checks' median and p99 as the endpoint runs them, the whole
GET /promotions/health/ through Django, and the baseline measured in the same run: one
``SELECT 1`` plus one Redis ``PING``, the least any check of a database and a Redis can cost.
"""

import statistics
import sys
import time

from _setup import django_env, ensure_database, setup_django

REDIS = "redis://127.0.0.1:6379/14"


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def main(rounds: int) -> None:
    token = "benchmark-" + "x" * 32
    env = django_env(REDIS_URL=REDIS, CELERY_BROKER_URL=REDIS, PROMOTIONS_OPS_TOKEN=token)
    ensure_database(env)
    setup_django(env)
    import redis
    from django.db import connection
    from django.test import Client

    from promotions.ops import health

    health.run_checks()  # connections opened, modules imported
    per_check: dict[str, list[float]] = {name: [] for name in health.CHECKS}
    totals = []
    for _ in range(rounds):
        started = time.perf_counter()
        for result in health.run_checks():
            per_check[result.name].append(result.seconds)
        totals.append(time.perf_counter() - started)
    client = Client()
    endpoint = []
    for _ in range(rounds):
        started = time.perf_counter()
        client.get("/promotions/health/", headers={"Authorization": f"Bearer {token}"})
        endpoint.append(time.perf_counter() - started)
    ping = redis.Redis.from_url(REDIS)
    baseline = []
    for _ in range(rounds):
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        ping.ping()
        baseline.append(time.perf_counter() - started)
    ping.delete(*(ping.keys("*promotions:ops:health:*") or ["-"]))

    for name, samples in per_check.items():
        print(f"check {name:9s} median {median_ms(samples):6.2f} ms")
    totals.sort()
    print(
        f"all checks       median {median_ms(totals):6.2f} ms, p99 {totals[int(len(totals) * 0.99) - 1] * 1000:.2f} ms"
    )
    print(f"GET /promotions/health/ median {median_ms(endpoint):6.2f} ms")
    ratio = median_ms(totals) / median_ms(baseline)
    print(f"baseline SELECT 1 + PING median {median_ms(baseline):6.2f} ms; ratio {ratio:.1f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 300)
