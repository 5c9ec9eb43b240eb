"""The demo's replay: held-out Online Retail customers shop in the demo as simulated shoppers.

The last ``HOLDOUT_DAYS`` days of the purchase history are kept out of training (the demo loads
and imports only the rows before them, ``split_history``). Each customer who bought in those days
is a shopper whose later purchases are known. A shopper visits the shop through Django's test
client, so every request goes through the real middleware (consent, visitor cookie, tracking),
views, template tags (experiments, holdout, bandit, ranking, recommenders), cart and checkout:

1. The shopper accepts the consent banner and gets a visitor id derived from the seed and their
   customer id (so assignments and the holdout are the same for the same seed).
2. They look at up to ``BROWSE`` products they bought before the cut, most recent first: a
   returning customer looking at old favourites (view events that personalize the session).
3. They open the home page, then the cart page; each shows promotions and picked products (the
   home slot's experiment: personalized or not; the cart slot's: hybrid or item-kNN recommender).
4. Of the products these two pages show (the app's blocks, marked ``data-promotions-product``),
   they add to the cart each one they really bought in the held-out days with probability
   ``P_SHOWN_BOUGHT`` and each other one with probability ``P_IMPULSE``.
5. With probability ``P_SEARCH`` they also find by themselves one product they really bought
   (its page, then add to cart), whatever the shop showed.
6. With anything in the cart they check out (a test card that is always accepted); one unit of
   each product.

The shop's random draws (Thompson sampling in the ranking, bandit picks) come from one seeded
stream while the replay runs, and the promotion statistics and bandit shares are recomputed every
``UPDATE_EVERY`` shoppers, as the periodic task would. The same seed on the same data and models
gives the same visits and figures. At the end the events are flushed, the promotion statistics
and bandit shares updated, and an uplift report fitted on the home experiment's shoppers.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import random
import re
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.http import HttpResponse
from django.test import Client
from django.urls import reverse

from promotions import tasks
from promotions.conf import app_settings
from promotions.experiments.models import Assignment
from promotions.visitors.identity import write_visitor_id
from shop_demo.catalog.loading import TIMESTAMP_FORMAT, _read_rows
from shop_demo.consent import ACCEPTED
from shop_demo.consent import COOKIE_NAME as CONSENT_COOKIE
from shop_demo.measurement import HOME_EXPERIMENT
from shop_demo.models import Product

HOLDOUT_DAYS = 21
DEFAULT_VISITORS = 300
DEFAULT_SEED = 2011
BROWSE = 3
P_SHOWN_BOUGHT = 1.0
P_IMPULSE = 0.005
P_SEARCH = 0.25
UPDATE_EVERY = 50
CARD_NUMBER = "4242 4242 4242 4242"
USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"
SHOWN = re.compile(r'data-promotions-product="([^"]+)"')
#: The elements the beacon script reports as seen: a promotion, or a recommended product, in a slot.
SEEN_TAG = re.compile(r"<[^>]*data-promotions-(?:promotion|product)=\"[^\"]+\"[^>]*>")
SEEN_PROMOTION = re.compile(r'data-promotions-promotion="(\d+)"')
SEEN_PRODUCT = re.compile(r'data-promotions-product="([^"]+)"')
SEEN_SLOT = re.compile(r'data-promotions-slot="([\w.:-]+)"')
QUOTE = re.compile(r'name="quote" value="([^"]*)"')
UPLIFT_REPORT_NAME = "Demo replay: personalized promotions"

Progress = Callable[[int, int | None], None]


@dataclass(frozen=True)
class Shopper:
    customer: str
    #: Distinct products bought before the cut, most recent first.
    history: tuple[str, ...]
    #: Products bought in the held-out days.
    later: frozenset[str]


@dataclass(frozen=True)
class HistorySplit:
    cut: datetime
    training_file: Path
    shoppers: tuple[Shopper, ...]


def split_history(source: Path, days: int, folder: Path | None = None) -> HistorySplit:
    """The customers who bought in the last ``days`` days (from midnight), with what they bought
    before and then; with ``folder``, the rows before those days are written to a training file
    there (left untouched when its content is the same, so the importer sees the same file)."""
    rows = list(_read_rows(source))
    last = max((row["timestamp"] for row in rows), default="")
    if not last:
        raise ValueError(f"{source} holds no purchase rows")
    cut = datetime.strptime(last[:10], "%Y-%m-%d") - timedelta(days=days - 1)
    cut_text = cut.strftime(TIMESTAMP_FORMAT)
    history: dict[str, list[tuple[str, str]]] = defaultdict(list)
    later: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        if row["timestamp"] < cut_text:
            history[row["user_id"]].append((row["timestamp"], row["item_id"]))
        else:
            later[row["user_id"]].add(row["item_id"])
    target = Path()
    if folder is not None:
        target = _write_before(rows, cut_text, folder / f"interactions-before-{cut:%Y-%m-%d}.csv")
    shoppers = tuple(
        Shopper(customer, _recent_first(history.get(customer, [])), frozenset(items))
        for customer, items in sorted(later.items())
    )
    return HistorySplit(cut, target, shoppers)


def _write_before(rows: list[dict[str, str]], cut_text: str, target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    draft = target.with_suffix(".tmp")
    with draft.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(row for row in rows if row["timestamp"] < cut_text)
    if target.exists() and target.read_bytes() == draft.read_bytes():
        draft.unlink()
    else:
        draft.replace(target)
    return target


def _recent_first(rows: list[tuple[str, str]]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for _timestamp, item in sorted(rows, reverse=True):
        seen.setdefault(item, None)
    return tuple(seen)


def choose_shoppers(shoppers: tuple[Shopper, ...], visitors: int, seed: int) -> list[Shopper]:
    """``visitors`` of the shoppers (all when fewer), drawn with the seed, in customer order."""
    chosen = random.Random(seed).sample(list(shoppers), min(visitors, len(shoppers)))  # noqa: S311 - a simulation
    return sorted(chosen, key=lambda shopper: shopper.customer)


def visitor_id_for(seed: int, customer: str) -> str:
    return hashlib.sha256(f"demo-replay:{seed}:{customer}".encode()).hexdigest()[:32]


@contextmanager
def seeded_serving(seed: int) -> Iterator[None]:
    """While the replay runs, unseeded ``numpy.random.default_rng()`` calls (the shop's random
    draws) take their seeds from one stream started at ``seed``."""
    original = np.random.default_rng
    stream = np.random.SeedSequence(seed)

    def default_rng(seed_value=None):
        return original(stream.spawn(1)[0] if seed_value is None else seed_value)

    np.random.default_rng = default_rng
    try:
        yield
    finally:
        np.random.default_rng = original


@contextmanager
def fewer_syncs() -> Iterator[None]:
    """On SQLite, ``PRAGMA synchronous = OFF`` for the replay's connection while it runs: a
    shopper's visit commits about twenty times, and waiting for the disk at each commit was most of
    its time on a busy machine. A crash of the program loses nothing; only a power cut during the
    replay could damage the demo database (then remove ``var/`` and run the demo again)."""
    sqlite = connection.vendor == "sqlite"
    if sqlite:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA synchronous")
            (previous,) = cursor.fetchone()
            cursor.execute("PRAGMA synchronous = OFF")
    try:
        yield
    finally:
        if sqlite:
            with connection.cursor() as cursor:
                cursor.execute(f"PRAGMA synchronous = {int(previous)}")


@dataclass
class ReplayReport:
    visitors: int = 0
    orders: int = 0
    errors: int = 0
    added_shown: int = 0
    added_impulse: int = 0
    added_found: int = 0
    seconds: float = 0.0
    uplift_report: str = ""
    #: visitor id -> (home variant key or "", converted)
    units: dict[str, tuple[str, bool]] = field(default_factory=dict)


class _Visit:
    """One shopper's requests through the test client."""

    def __init__(self, shopper: Shopper, seed: int, report: ReplayReport, known: set[str]) -> None:
        self.shopper = shopper
        self.rng = random.Random(f"{seed}:{shopper.customer}")  # noqa: S311 - a seeded simulation
        self.event_ids = random.Random(f"{seed}:{shopper.customer}:beacon")  # noqa: S311 - ids of a simulation
        self.report = report
        self.known = known
        self.visitor_id = visitor_id_for(seed, shopper.customer)
        # Shoppers come from addresses of their own (per-address limits, such as the beacon's, apply
        # to each shopper as to a real one); 10.0.0.0/8 is private, as a shop behind a proxy may see.
        address = int(self.visitor_id[:6], 16)
        remote_addr = f"10.{address >> 16}.{(address >> 8) & 255}.{address & 255}"
        self.client = Client(HTTP_USER_AGENT=USER_AGENT, REMOTE_ADDR=remote_addr, raise_request_exception=False)
        self.client.cookies[CONSENT_COOKIE] = ACCEPTED
        response = HttpResponse()
        write_visitor_id(response, self.visitor_id, secure=False)
        self.client.cookies[app_settings.VISITOR_COOKIE_NAME] = response.cookies[app_settings.VISITOR_COOKIE_NAME].value
        self.carted: set[str] = set()

    def get(self, url: str) -> str:
        """The page's HTML; what it shows is reported as seen, as the beacon script would."""
        response = self.client.get(url, secure=settings.SECURE_SSL_REDIRECT)
        if response.status_code >= 400:
            self.report.errors += 1
            return ""
        page = response.content.decode()
        self.report_seen(page, url)
        return page

    def report_seen(self, page: str, path: str) -> None:
        """POST the impressions of the page's promotions and recommended products to the beacon
        endpoint, in batches of ``BEACON_MAX_EVENTS``, as ``promotions.js`` does in a browser."""
        events = []
        for tag in SEEN_TAG.findall(page):
            slot = SEEN_SLOT.search(tag)
            event = {"id": str(uuid.UUID(int=self.event_ids.getrandbits(128), version=4)), "page": path}
            if slot:
                event["slot"] = slot.group(1)
            if promotion := SEEN_PROMOTION.search(tag):
                events.append({**event, "type": "promotion_impression", "promotion": int(promotion.group(1))})
            elif product := SEEN_PRODUCT.search(tag):
                events.append({**event, "type": "recommendation_impression", "product": product.group(1)})
        size = app_settings.BEACON_MAX_EVENTS
        for start in range(0, len(events), size):
            body = json.dumps({"events": events[start : start + size]})
            response = self.client.post(
                reverse("promotions:events"),
                body,
                content_type="application/json",
                secure=settings.SECURE_SSL_REDIRECT,
                headers={"Origin": f"{'https' if settings.SECURE_SSL_REDIRECT else 'http'}://testserver"},
            )
            if response.status_code >= 400:
                self.report.errors += 1

    def post(self, url: str, data: dict | None = None) -> bool:
        response = self.client.post(url, data or {}, secure=settings.SECURE_SSL_REDIRECT)
        if response.status_code >= 400:
            self.report.errors += 1
            return False
        return True

    def add(self, item: str) -> bool:
        if item in self.carted or item not in self.known:
            return False
        if self.post(reverse("shop:cart_add", args=[item]), {"quantity": 1}):
            self.carted.add(item)
            return True
        return False

    def choose_from(self, page: str) -> None:
        for item in dict.fromkeys(SHOWN.findall(page)):
            bought = item in self.shopper.later
            if self.rng.random() < (P_SHOWN_BOUGHT if bought else P_IMPULSE) and self.add(item):
                if bought:
                    self.report.added_shown += 1
                else:
                    self.report.added_impulse += 1

    def run(self) -> bool:
        for item in [item for item in self.shopper.history if item in self.known][:BROWSE]:
            self.get(reverse("shop:product", args=[item]))
        self.choose_from(self.get(reverse("shop:home")))
        self.choose_from(self.get(reverse("shop:cart")))
        later = sorted(item for item in self.shopper.later if item in self.known and item not in self.carted)
        if later and self.rng.random() < P_SEARCH:
            item = self.rng.choice(later)
            self.get(reverse("shop:product", args=[item]))
            if self.add(item):
                self.report.added_found += 1
        if not self.carted:
            return False
        page = self.get(reverse("shop:checkout"))
        quote = QUOTE.search(page)
        data = {
            "email": f"customer-{self.shopper.customer}@example.com",
            "shipping_address": "1 Replay Street, London",
            "card_number": CARD_NUMBER,
            "quote": quote.group(1) if quote else "",
        }
        return self.post(reverse("shop:checkout"), data)


def _update_periodic_figures() -> None:
    tasks.flush_events()
    tasks.update_promotion_stats()


def replay(shoppers: list[Shopper], seed: int, progress: Progress | None = None) -> ReplayReport:
    """Every shopper's visit, in order; the periodic figures updated as the shop's tasks would."""
    report = ReplayReport()
    known = set(Product.objects.filter(in_stock=True).values_list("stock_code", flat=True))
    started = time.monotonic()
    with seeded_serving(seed), fewer_syncs():
        for index, shopper in enumerate(shoppers, start=1):
            visit = _Visit(shopper, seed, report, known)
            ordered = visit.run()
            report.visitors += 1
            report.orders += ordered
            report.units[visit.visitor_id] = ("", ordered)
            if index % UPDATE_EVERY == 0:
                _update_periodic_figures()
            if progress is not None:
                progress(index, len(shoppers))
        _update_periodic_figures()
    report.seconds = time.monotonic() - started
    variants = dict(
        Assignment.objects.filter(
            experiment__key=HOME_EXPERIMENT, unit_id__in=[f"visitor:{v}" for v in report.units]
        ).values_list("unit_id", "variant__key")
    )
    for visitor_id, (_variant, ordered) in list(report.units.items()):
        report.units[visitor_id] = (variants.get(f"visitor:{visitor_id}", ""), ordered)
    return report


def write_uplift_file(report: ReplayReport, shoppers: list[Shopper], seed: int, path: Path) -> int:
    """One row per shopper in the home experiment: arm, converted, and what was known before the visit."""
    by_visitor = {visitor_id_for(seed, shopper.customer): shopper for shopper in shoppers}
    rows = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["arm", "converted", "products_before", "browsed"])
        for visitor_id, (variant, ordered) in sorted(report.units.items()):
            if not variant:
                continue
            history = by_visitor[visitor_id].history
            writer.writerow(["control" if variant == "not-personalized" else variant, int(ordered), len(history),
                             min(len(history), BROWSE)])  # fmt: skip
            rows += 1
    return rows


def save_uplift_report(report: ReplayReport, shoppers: list[Shopper], seed: int, folder: Path) -> str:
    """Fit and store the uplift report of the home experiment's shoppers; returns one line."""
    path = folder / f"replay-uplift-{seed}.csv"
    folder.mkdir(parents=True, exist_ok=True)
    write_uplift_file(report, shoppers, seed, path)
    try:
        call_command(
            "promotions_uplift", str(path), treatment_col="arm", outcome_col="converted", seed=seed,
            save=UPLIFT_REPORT_NAME, stdout=io.StringIO(),
        )  # fmt: skip
    except CommandError as error:
        return f"uplift report not saved: {error}"
    return f"uplift report {UPLIFT_REPORT_NAME!r} saved"


def already_replayed() -> bool:
    """Whether the home experiment has units already (a replay ran on this database)."""
    return Assignment.objects.filter(experiment__key=HOME_EXPERIMENT).exists()
