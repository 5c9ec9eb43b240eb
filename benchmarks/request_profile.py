"""Web CPU per request of the demo's category and product pages, with the app and without it, and where it goes.

Run from the repository root (PostgreSQL and Redis on 127.0.0.1):
    .venv/bin/python benchmarks/request_profile.py [--requests 200] [--rounds 6] [--top 25]
        [--database-url URL] [--redis-url URL]

Set-up as ``tag_render.py`` (the demo catalogue from the shared data, a hybrid fitted on the
shared interactions and activated, the example promotions), on its own database and Redis
database (``--database-url``, ``--redis-url``; Redis is the cache and the event buffer, as in
production). A visitor who consented browses 20 product pages and the category pages through
the whole Django stack in this process (Django's test client: no HTTP server), warm.

"With the app" is the demo as it runs; "without" is the same pages with the app's template
tags removed from the templates and its middlewares left out (``settings_without_tracking``),
the shop's own templates, views and queries kept. Rounds alternate the two, so load from
elsewhere hits both alike. Measured per request: CPU time of this process
(``time.process_time``: the web worker's CPU, not the database's) and wall time; printed as
medians with their difference and ratio. Then each page with the app runs under cProfile: the
functions with the most own time, and the app's functions with the most time under them. The
load average ends the output.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchmarks._setup import ROOT, django_env, ensure_database, setup_django  # noqa: E402
from benchmarks.tag_render import BROWSER, MEDIA, prepare  # noqa: E402

TAG = r"{% (personalized_promotions|recommended_products|similar_products|promotion_for|promotions_beacon)[^%]*%}"
TEMPLATES = ("base.html", "shop/product_list.html", "shop/product_detail.html")


def without_app_templates() -> Path:
    """A template folder that shadows the demo's templates with copies lacking the app's tags."""
    import re

    folder = Path(tempfile.mkdtemp())
    for name in TEMPLATES:
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(re.sub(TAG, "", (ROOT / "templates" / name).read_text()))
    return folder


def pages(product_ids: list[str]) -> dict[str, list[str]]:
    from shop_demo.models import Category

    rng = random.Random(3)
    slugs = list(Category.objects.values_list("slug", flat=True)[:20])
    return {
        "product": [f"/product/{item}/" for item in rng.sample(product_ids, 20)],
        "category": [f"/category/{slug}/" for slug in slugs],
    }


def timed(client, paths: list[str], n: int) -> tuple[list[float], list[float]]:
    cpu, wall = [], []
    for index in range(n):
        path = paths[index % len(paths)]
        started_cpu, started = time.process_time(), time.perf_counter()
        response = client.get(path)
        cpu.append((time.process_time() - started_cpu) * 1000)
        wall.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (path, response.status_code)
    return cpu, wall


def compare(urls: dict[str, list[str]], requests: int, rounds: int) -> dict[str, dict[str, list[float]]]:
    import settings_without_tracking
    from django.conf import settings
    from django.test import Client, override_settings

    bare_templates = [{**settings.TEMPLATES[0], "DIRS": [str(without_app_templates()), *settings.TEMPLATES[0]["DIRS"]]}]
    variants = {
        "with the app": {},
        "without": {"TEMPLATES": bare_templates, "MIDDLEWARE": settings_without_tracking.MIDDLEWARE},
    }
    results: dict[str, dict[str, list[float]]] = {}
    for page, paths in urls.items():
        for name in variants:
            results[f"{page} {name} cpu"], results[f"{page} {name} wall"] = [], []
        for round_number in range(rounds):
            order = list(variants) if round_number % 2 == 0 else list(variants)[::-1]
            for name in order:
                with override_settings(**variants[name]):
                    client = Client(HTTP_USER_AGENT=BROWSER)  # a new handler: this variant's middleware
                    client.cookies["shop_consent"] = "yes"
                    timed(client, paths, len(paths))  # templates compiled, visitor and caches warm
                    cpu, wall = timed(client, paths, requests // rounds)
                results[f"{page} {name} cpu"] += cpu
                results[f"{page} {name} wall"] += wall
    return results


def profile(urls: dict[str, list[str]], requests: int, top: int) -> None:
    from django.test import Client

    for page, paths in urls.items():
        client = Client(HTTP_USER_AGENT=BROWSER)
        client.cookies["shop_consent"] = "yes"
        timed(client, paths, len(paths))
        profiler = cProfile.Profile(time.process_time)
        profiler.enable()
        timed(client, paths, requests)
        profiler.disable()
        stats = pstats.Stats(profiler)
        total = stats.total_tt
        print(f"\n{page} page, {requests} requests under cProfile (CPU, with the profiler's overhead): "
              f"{1000 * total / requests:.2f} ms a request")  # fmt: skip
        rows = sorted(stats.stats.items(), key=lambda item: item[1][2], reverse=True)[:top]
        print_rows("functions with the most own time", rows, requests)
        app = [row for row in stats.stats.items() if "/promotions/" in row[0][0]]
        rows = sorted(app, key=lambda item: item[1][3], reverse=True)[:top]
        print_rows("the app's functions with the most time under them (cumulative)", rows, requests)


def print_rows(title: str, rows: list, requests: int) -> None:
    print(f"  {title}\n  {'own ms/req':>10} {'cum ms/req':>10} {'calls/req':>9}  function")
    for (filename, line, function), (_, calls, own, cumulative, _) in rows:
        where = filename.replace(str(ROOT) + "/", "").split("site-packages/")[-1]
        figures = f"{1000 * own / requests:10.3f} {1000 * cumulative / requests:10.3f} {calls / requests:9.1f}"
        print(f"  {figures}  {where}:{line}({function})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", type=Path, default=ROOT.parent / "shared" / "datasets")
    parser.add_argument("--requests", type=int, default=200, help="timed requests per page and variant")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/promotions_profile")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/5")
    args = parser.parse_args()
    env = django_env(REDIS_URL=args.redis_url, DATABASE_URL=args.database_url)
    ensure_database(env)
    setup_django(env)
    from django.core.cache import cache

    cache.clear()
    urls = pages(prepare(args.datasets, MEDIA))
    results = compare(urls, args.requests, args.rounds)
    print(f"Web CPU and wall time per request, ms (median of {args.requests} a page and variant, {args.rounds} rounds)")
    for page in urls:
        variants = ("with the app", "without")
        with_cpu, bare_cpu = (statistics.median(results[f"{page} {name} cpu"]) for name in variants)
        with_wall, bare_wall = (statistics.median(results[f"{page} {name} wall"]) for name in variants)
        print(
            f"  {page:<8} CPU {with_cpu:6.2f} with the app, {bare_cpu:6.2f} without: +{with_cpu - bare_cpu:.2f} ms, "
            f"ratio {with_cpu / bare_cpu:.2f}; wall {with_wall:6.2f} / {bare_wall:6.2f}"
        )
    profile(urls, args.requests, args.top)
    print("load average (1, 5, 15 min): " + ", ".join(f"{value:.2f}" for value in os.getloadavg()))


if __name__ == "__main__":
    main()
