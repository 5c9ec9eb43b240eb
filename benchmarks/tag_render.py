"""Template tag render time and the product page with the tags vs without (issue: serving path).

Set-up (once, on the benchmark PostgreSQL database, Redis as the cache as in production): the
demo catalogue (~3,700 products) from the shared data, a hybrid model fitted on the shared
interactions and activated, the demo's example promotions.

Figures: p50 and p99 per tag, warm (the same visitor's next page), cold (a visitor never seen,
with a five-item session, in a running process) and the first render after the process's shared
caches were emptied (start); per-visitor cache writes are made after the timed render, as the
tracking middleware makes them after the response body went out; then the
product page through the whole Django stack with the tags and with a copy of its template that
has them removed, as a ratio. Targets: <= 1 ms p50 warm, <= 15 ms p99 cold, page ratio <= 1.3.

    .venv/bin/python benchmarks/tag_render.py [--datasets ../shared/datasets] [--visitors 300]
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks._setup import ROOT, django_env, ensure_database, setup_django  # noqa: E402

TAGS = {
    "personalized_promotions": '{% personalized_promotions limit=3 slot="home" %}',
    "recommended_products": '{% recommended_products limit=8 slot="home" %}',
    "similar_products": "{% similar_products product limit=6 %}",
    "promotion_for": "{% promotion_for product %}",
}
#: The model artifact outlives one run (var/ is not in git), so later runs skip the fit.
MEDIA = ROOT / "var" / "benchmark-media"
BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def prepare(datasets: Path, media: Path) -> list[str]:
    """Catalogue, model and promotions; returns the product ids."""
    from django.conf import settings
    from django.core.files.base import ContentFile

    from promotions.evaluation.data import read_interactions
    from promotions.recommenders import MODELS, Interactions
    from promotions.training.models import ModelVersion
    from promotions.training.versions import activate
    from shop_demo.catalog.loading import load_catalogue
    from shop_demo.catalog.promotions import create_example_promotions
    from shop_demo.models import Product

    settings.MEDIA_ROOT = str(media)
    load_catalogue(datasets)
    create_example_promotions()
    active = ModelVersion.objects.filter(status=ModelVersion.Status.ACTIVE).first()
    if active is not None and active.artifact and active.artifact.storage.exists(active.artifact.name):
        return list(Product.objects.values_list("stock_code", flat=True))  # fitted by an earlier run
    log = read_interactions(datasets / "online-retail" / "interactions.csv.gz")
    interactions = Interactions.from_arrays(log.users, log.items, log.timestamps, log.events, log.quantities)
    items = [
        {
            "id": p.stock_code,
            "title": p.title,
            "category": p.category.name if p.category else "",
            "price": float(p.price),
        }
        for p in Product.objects.select_related("category")
    ]
    started = time.perf_counter()
    model = MODELS["hybrid"]().fit(interactions, items)
    seconds = time.perf_counter() - started
    print(f"hybrid fitted on {interactions.shape[0]:,} customers x {interactions.shape[1]:,} items in {seconds:.0f} s")
    version = ModelVersion.objects.create(model_name="hybrid", status=ModelVersion.Status.READY)
    version.artifact.save(f"bench-hybrid-{version.pk}.npz", ContentFile(model.save()), save=True)
    activate(version.pk)
    return list(Product.objects.values_list("stock_code", flat=True))


def visitor(product_ids: list[str], rng: random.Random):
    from django.contrib.auth.models import AnonymousUser
    from django.test import RequestFactory
    from django.utils import timezone

    from promotions.tracking.capture import TrackingState
    from promotions.visitors.recent import remember

    visitor_id = uuid.uuid4().hex
    session = rng.sample(product_ids, 5)
    remember(visitor_id, [{"item_id": item, "event_type": "view", "occurred_at": timezone.now()} for item in session])
    request = RequestFactory().get("/", HTTP_USER_AGENT=BROWSER)
    request.user = AnonymousUser()
    # Their cookie was issued when the session began, as the middleware would report it.
    request.promotions = TrackingState(allowed=True, visitor_id=visitor_id, issued_at=time.time())
    request.visitor_id = visitor_id
    return request, session[-1]


def fresh(request):
    """The same visitor on a new request (per-request memos empty)."""
    from django.contrib.auth.models import AnonymousUser
    from django.test import RequestFactory

    from promotions.tracking.capture import TrackingState

    copy = RequestFactory().get("/", HTTP_USER_AGENT=BROWSER)
    copy.user = AnonymousUser()
    # As under the tracking middleware: cache writes wait for the response's close.
    copy.promotions = TrackingState(
        allowed=True,
        visitor_id=request.visitor_id,
        cache_writes={},
        cache_counts={},
        issued_at=request.promotions.issued_at,
    )
    copy.visitor_id = request.visitor_id
    return copy


def time_tags(product_ids: list[str], visitors: int) -> dict[str, dict[str, list[float]]]:
    """Per tag: "cold" is a visitor never seen (their lists computed now; the process's shared
    caches warm, as in a running server), "warm" the same visitor's next pages, "start" the first
    render after the process's caches were emptied."""
    from django.template import Context, Template

    from promotions.serving import forget_process_caches
    from promotions.tracking.capture import write_pending
    from shop_demo.models import Product

    rng = random.Random(7)
    templates = {name: Template("{% load promotions %}" + source) for name, source in TAGS.items()}
    times: dict[str, dict[str, list[float]]] = {name: {"start": [], "cold": [], "warm": []} for name in TAGS}
    for index in range(visitors):
        request, item = visitor(product_ids, rng)
        product = Product.objects.get(stock_code=item)
        for name, template in templates.items():
            states = ("cold", "warm", "warm", "warm")
            if index % 10 == 0:
                forget_process_caches()
                states = ("start", "warm", "warm", "warm")
            for state in states:
                current = fresh(request)
                started = time.perf_counter()
                template.render(Context({"request": current, "product": product}))
                times[name][state].append((time.perf_counter() - started) * 1000)
                write_pending(current)  # what the middleware does once the body went out
    return times


def strip_tags(source: str) -> str:
    return re.sub(
        r"{% (personalized_promotions|recommended_products|similar_products|promotion_for)[^%]*%}", "", source
    )


def page_ratio(product_ids: list[str], rounds: int) -> tuple[float, float, float]:
    """p50 ms of the product page (whole Django stack, warm) with the tags and without them, and
    the median over rounds of each round's ratio (robust to the load drifting during the run)."""
    from django.conf import settings
    from django.test import Client, override_settings

    stripped = Path(tempfile.mkdtemp())
    for name in ("shop/product_detail.html",):
        target = stripped / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(strip_tags((ROOT / "templates" / name).read_text()))
    without = [{**settings.TEMPLATES[0], "DIRS": [str(stripped), *settings.TEMPLATES[0]["DIRS"]]}]
    client = Client(HTTP_USER_AGENT=BROWSER)
    client.cookies["shop_consent"] = "yes"
    rng = random.Random(3)
    pages = [f"/product/{item}/" for item in rng.sample(product_ids, 20)]
    for page in pages:
        client.get(page)  # the visitor's session and every cache warm
    samples: dict[str, list[float]] = {"with": [], "without": []}
    ratios = []
    # Rounds alternate between the two templates, so a change in machine load hits both alike;
    # the first page after each switch compiles the templates again and is not timed.
    for _ in range(rounds):
        medians = {}
        for label, templates in (("with", settings.TEMPLATES), ("without", without)):
            with override_settings(TEMPLATES=templates):
                client.get(pages[-1])
                timed = []
                for page in pages:
                    started = time.perf_counter()
                    response = client.get(page)
                    timed.append((time.perf_counter() - started) * 1000)
                    assert response.status_code == 200
            samples[label] += timed
            medians[label] = statistics.median(timed)
        ratios.append(medians["with"] / medians["without"])
    return statistics.median(samples["with"]), statistics.median(samples["without"]), statistics.median(ratios)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=Path, default=ROOT.parent / "shared" / "datasets")
    parser.add_argument("--visitors", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    env = django_env(
        REDIS_URL="redis://127.0.0.1:6379/4", DATABASE_URL="postgres://postgres@127.0.0.1:5432/promotions_tags"
    )
    ensure_database(env)
    setup_django(env)
    from django.core.cache import cache

    cache.clear()
    product_ids = prepare(args.datasets, MEDIA)
    times = time_tags(product_ids, args.visitors)
    print(f"\nTag render time, ms ({len(product_ids):,} products, {args.visitors} visitors)")
    print(f"{'tag':<26}{'warm p50':>10}{'warm p99':>10}{'cold p50':>10}{'cold p99':>10}{'start p50':>10}")
    for name, states in times.items():
        warm, cold, start = states["warm"], states["cold"], states["start"]
        print(
            f"{name:<26}{percentile(warm, 0.5):>10.2f}{percentile(warm, 0.99):>10.2f}"
            f"{percentile(cold, 0.5):>10.2f}{percentile(cold, 0.99):>10.2f}{percentile(start, 0.5):>10.2f}"
        )
    with_tags, without_tags, ratio = page_ratio(product_ids, args.rounds)
    print(f"\nProduct page p50 (warm): {with_tags:.2f} ms with the tags, {without_tags:.2f} ms without; "
          f"ratio {ratio:.2f} (median of {args.rounds} rounds' ratios; target <= 1.3)")  # fmt: skip


if __name__ == "__main__":
    main()
