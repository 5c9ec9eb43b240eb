"""The data the page tests browse: a small shop with a month of tracked traffic.

Built once per test module with the app's own loaders and trainer: the sample catalogue and
order history, the example promotions, two trained model versions, four weeks of visitors
(views, carts, purchases; the global holdout's visitors buy less often) and a running A/B
experiment whose visitors are assigned and convert at 8% (control) and 16% (treatment).
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.utils import timezone

from promotions.experiments.models import Assignment, Experiment, Variant
from promotions.experiments.stats import inference as stats
from promotions.offers.models import Promotion
from promotions.registry import forget_all
from promotions.tracking.models import Event
from promotions.training import pipeline, versions
from promotions.visitors.holdout import is_held_out
from shop_demo.catalog.loading import load_catalogue, load_history
from shop_demo.catalog.promotions import create_example_promotions
from shop_demo.models import Product

STAFF, PASSWORD = "boss", "browser-pages-password"
VISITORS = 400  # tracked visitors over the last four weeks, besides the experiment's
EXPERIMENT_RATES = {"control": 0.08, "treatment": 0.16}  # a clear lift: its interval is all above 0%
EXPERIMENT_UNITS = 300  # per arm


@dataclass(frozen=True)
class Shop:
    """What the tests need to know about the data they browse."""

    product: Product
    category_slug: str
    experiment: Experiment
    # Per arm: units and converted units, and the revenue of its purchases (the test's own count).
    experiment_counts: dict[str, tuple[stats.ProportionStats, Decimal]]
    model_version_pk: int
    promotion_pk: int
    product_texts: frozenset[str]  # titles, descriptions and brands: the catalogue's own words
    owner_texts: frozenset[str]  # names typed by the shop's staff: shown as entered, in any language


def reset_process_state() -> None:
    cache.clear()
    forget_all()
    versions.forget_active()
    versions._loaded = None


def _event(event_type: str, visitor: str, when, **fields) -> Event:
    return Event(
        event_type=event_type, visitor_id=visitor, occurred_at=when, idempotency_key=uuid.uuid4().hex, **fields
    )


def _traffic(products: list[Product], rng: random.Random) -> list[Event]:
    """Four weeks of tracked visitors: each views a few products, some add one to the cart, some buy."""
    now = timezone.now()
    events = []
    for n in range(VISITORS):
        visitor = f"{rng.getrandbits(128):032x}"
        start = now - timedelta(days=rng.uniform(0.1, 27.5))
        viewed = rng.sample(products, 3)
        events += [
            _event("view", visitor, start + timedelta(minutes=i), item_id=p.stock_code) for i, p in enumerate(viewed)
        ]
        if n % 3 == 0:
            events.append(_event("add_to_cart", visitor, start + timedelta(minutes=4), item_id=viewed[0].stock_code))
            if rng.random() < (0.25 if is_held_out(visitor) else 0.45):
                events.append(
                    _event(
                        "purchase",
                        visitor,
                        start + timedelta(minutes=6),
                        item_id=viewed[0].stock_code,
                        quantity=rng.randint(1, 4),
                        unit_price=viewed[0].price,
                    )
                )
    return events


def _experiment(products: list[Product], rng: random.Random) -> tuple[Experiment, list[Event], dict]:
    """A running A/B test, two weeks old, with its assignments and its visitors' purchases."""
    now = timezone.now()
    experiment = Experiment.objects.create(
        key="personalized-promotions",
        name="Personalized promotions",
        hypothesis="Promotions ranked for each visitor convert more than the same promotions for everyone.",
        status=Experiment.Status.RUNNING,
        started_at=now - timedelta(days=14),
    )
    variants = {
        key: Variant.objects.create(experiment=experiment, key=key, weight=Decimal("0.5"), is_control=key == "control")
        for key in EXPERIMENT_RATES
    }
    assignments, events = [], []
    counts = {key: [0, 0, Decimal(0)] for key in EXPERIMENT_RATES}
    for index in range(2 * EXPERIMENT_UNITS):
        key = "control" if index % 2 == 0 else "treatment"
        visitor = f"experiment-{index}"
        exposed = now - timedelta(days=rng.uniform(0.2, 13.8))
        assignments.append(
            Assignment(
                experiment=experiment, unit_id=f"visitor:{visitor}", variant=variants[key], first_exposed_at=exposed
            )
        )
        product = rng.choice(products)
        events.append(_event("view", visitor, exposed, item_id=product.stock_code))
        counts[key][0] += 1
        if rng.random() < EXPERIMENT_RATES[key]:
            counts[key][1] += 1
            counts[key][2] += product.price
            events.append(
                _event(
                    "purchase",
                    visitor,
                    exposed + timedelta(minutes=15),
                    item_id=product.stock_code,
                    quantity=1,
                    unit_price=product.price,
                )
            )
    Assignment.objects.bulk_create(assignments)
    return experiment, events, {key: (stats.ProportionStats(n, k), revenue) for key, (n, k, revenue) in counts.items()}


def build(tmp_path) -> Shop:
    """Create the data (on an empty database)."""
    reset_process_state()
    load_catalogue(tmp_path / "missing")  # the built-in sample catalogue
    load_history(None)
    create_example_promotions()
    products = list(Product.objects.order_by("stock_code"))
    rng = random.Random(16)  # noqa: S311 - test data, not security
    experiment, experiment_events, experiment_counts = _experiment(products, rng)
    Event.objects.bulk_create(_traffic(products, rng) + experiment_events)
    pipeline.train(["popularity"])
    version = pipeline.train(["popularity", "item_knn"])
    get_user_model().objects.create_superuser(STAFF, f"{STAFF}@example.com", PASSWORD)
    reset_process_state()
    product = Product.objects.filter(category__name="Candles & Lights").order_by("stock_code").first()
    owner_texts = {experiment.name, experiment.hypothesis, experiment.key, STAFF, *EXPERIMENT_RATES}
    owner_texts |= set(Promotion.objects.values_list("name", flat=True))  # the message is translated
    return Shop(
        product=product,
        category_slug=product.category.slug,
        experiment=experiment,
        experiment_counts=experiment_counts,
        model_version_pk=version.pk,
        promotion_pk=Promotion.objects.order_by("pk").values_list("pk", flat=True).first(),
        product_texts=frozenset(
            text for row in Product.objects.values_list("title", "description", "brand__name") for text in row if text
        ),
        owner_texts=frozenset(owner_texts),
    )
