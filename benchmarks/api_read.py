"""The key-authenticated read API through gunicorn against a bare DRF endpoint, in the same run.

Set-up (on its own PostgreSQL database, Redis as cache and buffer as in production): the demo's
built-in sample catalogue, a hybrid model fitted on the sample history and activated, the demo's
example promotions, an API key with scope ``read``, and a known user whose five recent views are
in the cache. One gunicorn server (one sync worker, DEBUG off) serves the demo plus
``/bench/constant/`` (a DRF view without authentication, permission or throttle answering a
constant). One keep-alive client sends, round after round and in turn, requests to the constant,
to ``v1/recommendations/?user=<id>&k=8`` and to ``v1/recommendations/?history=<5 ids>&k=8``
(the same session each time: warm), so load from elsewhere hits all alike; then cold sessions
(a new five-item history each request). Figures: p50 and p99, p50 minus the constant's, and the
worker's CPU time per request (user + system, from /proc: what the server itself spends, which
the machine's load does not inflate; Redis and PostgreSQL work is in their own processes).
Target: a read's p50 within 2 ms of the constant's, warm.

    .venv/bin/python benchmarks/api_read.py [REQUESTS_PER_ROUND] [ROUNDS]
"""

from __future__ import annotations

import http.client
import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks._setup import ROOT, django_env, ensure_database, setup_django  # noqa: E402

DATABASE_URL = "postgres://postgres@127.0.0.1:5432/promotions_api_bench"
REDIS_URL = "redis://127.0.0.1:6379/4"
PORT = 8794


def prepare() -> tuple[str, int, list[str]]:
    """Catalogue, model, promotions, a key and a known user; returns (key, user id, product ids)."""
    from django.contrib.auth import get_user_model
    from django.core.files.base import ContentFile
    from django.utils import timezone

    from promotions.api.keys import ApiKey
    from promotions.evaluation.data import read_interactions
    from promotions.recommenders import MODELS, Interactions
    from promotions.training.models import ModelVersion
    from promotions.training.versions import activate
    from promotions.visitors.recent import remember
    from shop_demo.catalog.loading import SAMPLE_HISTORY, load_catalogue
    from shop_demo.catalog.promotions import create_example_promotions
    from shop_demo.models import Product

    load_catalogue(None)
    create_example_promotions()
    products = list(Product.objects.values_list("stock_code", flat=True))
    active = ModelVersion.objects.filter(status=ModelVersion.Status.ACTIVE).first()
    if active is None or not active.artifact or not active.artifact.storage.exists(active.artifact.name):
        log = read_interactions(SAMPLE_HISTORY)
        interactions = Interactions.from_arrays(log.users, log.items, log.timestamps, log.events, log.quantities)
        items = [
            {"id": p.stock_code, "title": p.title, "category": p.category.name if p.category else ""}
            for p in Product.objects.select_related("category")
        ]
        model = MODELS["hybrid"]().fit(interactions, items)
        version = ModelVersion.objects.create(model_name="hybrid", status=ModelVersion.Status.READY)
        version.artifact.save(f"bench-api-hybrid-{version.pk}.npz", ContentFile(model.save()), save=True)
        activate(version.pk)
    ApiKey.objects.filter(name="benchmark").delete()
    _key, text = ApiKey.objects.issue("benchmark", ["read"], rate="1000000/min")
    user, _ = get_user_model().objects.get_or_create(username="bench-reader")
    now = timezone.now()
    viewed = random.Random(1).sample(products, 5)
    remember(f"u:{user.pk}", [{"item_id": item, "event_type": "view", "occurred_at": now} for item in viewed])
    return text, user.pk, products


def request(connection: http.client.HTTPConnection, path: str, headers: dict[str, str]) -> float:
    started = time.perf_counter()
    connection.request("GET", path, headers=headers)
    response = connection.getresponse()
    body = response.read()
    elapsed = (time.perf_counter() - started) * 1000
    assert response.status == 200, (response.status, body[:300])
    return elapsed


def wait_ready() -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", PORT, timeout=2)
            connection.request("GET", "/bench/constant/")
            if connection.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError("gunicorn did not answer")


def worker_cpu(master: int) -> float:
    """CPU seconds (user + system) the gunicorn worker (the master's child) has used so far."""
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    fields = Path(f"/proc/{children[0]}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def summary(latencies: list[float]) -> tuple[float, float]:
    return statistics.median(latencies), statistics.quantiles(latencies, n=100)[98]


def main(per_round: int, rounds: int) -> None:
    env = django_env(DATABASE_URL, REDIS_URL=REDIS_URL)
    ensure_database(env)
    setup_django(env)
    key, user_id, products = prepare()
    rng = random.Random(7)
    session = ",".join(rng.sample(products, 5))
    paths = {
        "bare DRF endpoint, a constant (baseline)": "/bench/constant/",
        "v1/recommendations, known user": f"/promotions/api/v1/recommendations/?user={user_id}&k=8",
        "v1/recommendations, 5-item history": f"/promotions/api/v1/recommendations/?history={session}&k=8",
    }
    headers = {"Authorization": f"Bearer {key}"}
    server_env = {**env, "DJANGO_SETTINGS_MODULE": "api_read_settings", "PYTHONPATH": f"{ROOT}:{ROOT / 'benchmarks'}"}
    command = [sys.executable, "-m", "gunicorn", "shop_demo.wsgi", "-b", f"127.0.0.1:{PORT}", "-w", "1"]
    server = subprocess.Popen(command, cwd=ROOT, env=server_env, stderr=subprocess.DEVNULL)
    try:
        wait_ready()
        connection = http.client.HTTPConnection("127.0.0.1", PORT, timeout=10)
        for path in paths.values():  # warm-up: models loaded, caches filled
            for _ in range(100):
                request(connection, path, headers)
        load_before = os.getloadavg()
        results: dict[str, list[float]] = {name: [] for name in paths}
        cpu = dict.fromkeys(paths, 0.0)
        for _ in range(rounds):
            for name, path in paths.items():
                before = worker_cpu(server.pid)
                results[name] += [request(connection, path, headers) for _ in range(per_round)]
                cpu[name] += worker_cpu(server.pid) - before
        cold = []
        for _ in range(per_round):
            fresh = ",".join(rng.sample(products, 5))
            cold.append(request(connection, f"/promotions/api/v1/recommendations/?history={fresh}&k=8", headers))
        load_after = os.getloadavg()
        answer = json.loads(http_get(connection, paths["v1/recommendations, 5-item history"], headers).decode())
    finally:
        server.terminate()
        server.wait()
    base_p50, _ = summary(results["bare DRF endpoint, a constant (baseline)"])
    print(f"Read API through gunicorn (1 sync worker), {per_round * rounds:,} requests each, warm")
    for name, latencies in results.items():
        p50, p99 = summary(latencies)
        worker_ms = cpu[name] / len(latencies) * 1000
        print(
            f"  {name:42s} p50 {p50:6.2f} ms  p99 {p99:6.2f} ms  p50 - baseline {p50 - base_p50:+.2f} ms"
            f"  worker CPU {worker_ms:.2f} ms/request"
        )
    p50, p99 = summary(cold)
    print(f"  {'v1/recommendations, a new 5-item history':42s} p50 {p50:6.2f} ms  p99 {p99:6.2f} ms  (cold)")
    print(f"  answer: {len(answer['results'])} products, model version {answer['model_version']}")
    print(f"  load average before {load_before[0]:.1f}, after {load_after[0]:.1f} (1 min; 2 cores)")


def http_get(connection: http.client.HTTPConnection, path: str, headers: dict[str, str]) -> bytes:
    connection.request("GET", path, headers=headers)
    return connection.getresponse().read()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 500, int(sys.argv[2]) if len(sys.argv) > 2 else 4)
