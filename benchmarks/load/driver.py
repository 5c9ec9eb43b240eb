"""A threaded HTTP driver: simulated shoppers browse, search, view products, send beacons, buy.

Each thread plays one shopper after another. A shopper accepts the consent banner (a cookie),
opens the home page, a category, sometimes a search, one to three product pages (each followed
by the beacon the page's script would send: impressions of the promotions and recommendations
rendered there, sometimes a click, and the dwell time), and sometimes adds to the cart and
checks out. Every event the shop should record for it is written into a ledger, so that after
the flush the database can be checked to hold each exactly once.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import random
import re
import statistics
import threading
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from html.parser import HTMLParser
from http.cookies import SimpleCookie
from urllib.parse import quote

from stack import BROWSER

CARD = "4242 4242 4242 4242"  # passes the demo's Luhn check and is charged
EVENTS_PATH = "/promotions/api/events/"
PRODUCT_LINK = re.compile(r'href="/product/([^/"]+)/"')
CATEGORY_LINK = re.compile(r'href="/category/([\w-]+)/"')


class TaggedElements(HTMLParser):
    """The attributes of every element the promotions tags mark for the beacon script."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[dict[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        data = {name: value or "" for name, value in attrs if name.startswith("data-promotions-")}
        if "data-promotions-kind" in data:
            self.found.append(data)


def beacon_events(html: str, page: str, product: str, rng: random.Random) -> list[dict]:
    """What promotions.js would report for this product page: impressions, maybe a click, the dwell."""
    parser = TaggedElements()
    parser.feed(html)
    events = []
    for data in parser.found:
        kind = data["data-promotions-kind"]
        event = {"type": f"{kind}_impression", "id": str(uuid.uuid4()), "page": page}
        if data.get("data-promotions-slot"):
            event["slot"] = data["data-promotions-slot"]
        if kind == "promotion" and data.get("data-promotions-promotion"):
            event["promotion"] = int(data["data-promotions-promotion"])
        elif kind == "recommendation" and data.get("data-promotions-product"):
            event["product"] = data["data-promotions-product"]
        else:
            continue  # the script skips elements lacking their ids
        events.append(event)
    if events and rng.random() < 0.2:
        clicked = dict(rng.choice(events), id=str(uuid.uuid4()))
        clicked["type"] = clicked["type"].replace("_impression", "_click")
        events.append(clicked)
    events = events[:24]
    events.append({"type": "dwell", "id": str(uuid.uuid4()), "product": product, "dwell_seconds": 12.5, "page": page})
    return events


@dataclass
class Result:
    kind: str  # the request's role in the visit: home, category, search, product, beacon, cart_add, ...
    status: int  # 0 when no answer came (refused, reset, timed out)
    started: float
    seconds: float


@dataclass
class Ledger:
    """Events the shop should have recorded, per visitor and type, and the beacon's idempotency keys."""

    counts: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    beacon_keys: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def register(self, visitor_id: str) -> None:
        """A visitor of this load: their stored events are checked even if none was expected."""
        with self.lock:
            self.counts[visitor_id]  # noqa: B018 (the defaultdict creates the entry)

    def add(self, visitor_id: str, event_type: str, n: int = 1) -> None:
        with self.lock:
            self.counts[visitor_id][event_type] += n

    def add_beacon(self, visitor_id: str, events: list[dict]) -> None:
        with self.lock:
            for event in events:
                self.counts[visitor_id][event["type"]] += 1
                key = hashlib.sha256(f"{visitor_id}:{uuid.UUID(event['id']).hex}".encode()).hexdigest()
                self.beacon_keys.add("beacon:" + key)

    def totals(self) -> Counter:
        total: Counter = Counter()
        for counts in self.counts.values():
            total.update(counts)
        return total


class Shopper:
    """One visitor's cookies and their visit."""

    def __init__(self, driver: Driver, rng: random.Random) -> None:
        self.driver, self.rng = driver, rng
        self.cookies = {"shop_consent": "yes"}
        self.cart: set[str] = set()

    @property
    def visitor_id(self) -> str | None:
        signed = self.cookies.get("promotions_vid")
        return signed.split(":", 1)[0] if signed else None

    def request(self, kind: str, method: str, path: str, body: str | None = None, headers: dict | None = None):
        """One request; returns (status, location, text). Status 0: no answer."""
        all_headers = {
            "User-Agent": BROWSER,
            "Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()),
            **(headers or {}),
        }
        started = time.monotonic()
        status, location, text = 0, "", ""
        try:
            connection = http.client.HTTPConnection("127.0.0.1", self.driver.port, timeout=self.driver.timeout)
            connection.request(method, path, body=body, headers=all_headers)
            response = connection.getresponse()
            text = response.read().decode("utf-8", "replace")
            status, location = response.status, response.getheader("Location", "")
            for header in response.headers.get_all("Set-Cookie") or []:
                for name, morsel in SimpleCookie(header).items():
                    self.cookies[name] = morsel.value
            connection.close()
        except (OSError, http.client.HTTPException):
            pass
        self.driver.record(Result(kind, status, started, time.monotonic() - started), text)
        return status, location, text

    def form_post(self, kind: str, path: str, fields: dict[str, str]):
        body = "&".join(f"{quote(k)}={quote(v)}" for k, v in fields.items())
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-CSRFToken": self.cookies.get("csrftoken", ""),
            "Origin": self.driver.origin,
        }
        return self.request(kind, "POST", path, body, headers)

    def send_beacon(self, html: str, page: str, product: str, kind: str = "beacon") -> int:
        """What the product page's script sends: returns the status, ledgering the events if accepted."""
        events = beacon_events(html, page, product, self.rng)
        body = json.dumps({"events": events})
        headers = {"Content-Type": "text/plain;charset=UTF-8", "Origin": self.driver.origin}
        status, _, _ = self.request(kind, "POST", EVENTS_PATH, body, headers)
        if status == 202 and self.visitor_id:
            self.driver.ledger.add_beacon(self.visitor_id, events)
        return status

    def add_to_cart(self, code: str) -> None:
        status, location, _ = self.form_post("cart_add", f"/cart/add/{code}/", {"quantity": "1"})
        if status == 302 and location.rstrip("/").endswith("/cart") and self.visitor_id:  # else: out of stock
            self.driver.ledger.add(self.visitor_id, "add_to_cart")
            self.cart.add(code)

    def visit(self) -> None:
        rng, driver, ledger = self.rng, self.driver, self.driver.ledger
        self.request("home", "GET", "/")
        if self.visitor_id:
            ledger.register(self.visitor_id)
        self.request("category", "GET", f"/category/{rng.choice(driver.categories)}/")
        if rng.random() < 0.5:
            status, _, _ = self.request("search", "GET", f"/search/?q={quote(rng.choice(driver.words))}")
            if status == 200 and self.visitor_id:
                ledger.add(self.visitor_id, "search")
        for _ in range(rng.randint(1, 3)):
            code = rng.choice(driver.products)
            page = f"/product/{code}/"
            status, _, html = self.request("product", "GET", page)
            if status != 200 or not self.visitor_id:
                continue
            ledger.add(self.visitor_id, "view")
            self.send_beacon(html, page, code)
            if rng.random() < 0.35:
                self.add_to_cart(code)
        if self.cart:
            self.request("cart", "GET", "/cart/")
            if rng.random() < 0.5:
                fields = {"email": "load@example.com", "shipping_address": "1 Test Street", "card_number": CARD}
                status, location, _ = self.form_post("checkout", "/checkout/", fields)
                if status == 302 and "/orders/" in location:
                    ledger.add(self.visitor_id, "purchase", len(self.cart))  # one event per order line


class Driver:
    """Threads of shoppers against one shop for a fixed time; collects results and the ledger."""

    def __init__(self, port: int, ledger: Ledger, seed: int = 1, timeout: float = 30) -> None:
        self.port, self.ledger, self.timeout = port, ledger, timeout
        self.origin = f"http://127.0.0.1:{port}"
        self.seed = seed
        self.results: list[Result] = []
        self.tracebacks = 0  # error pages that show a Python traceback
        self.lock = threading.Lock()
        self.categories: list[str] = []
        self.products: list[str] = []
        self.words: list[str] = []
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def discover(self) -> None:
        """Categories, products and search words, read from the shop's own pages."""
        probe = Shopper(self, random.Random(0))
        _, _, home = probe.request("discover", "GET", "/")
        self.categories = sorted(set(CATEGORY_LINK.findall(home)))
        products = set(PRODUCT_LINK.findall(home))
        for slug in self.categories:
            _, _, page = probe.request("discover", "GET", f"/category/{slug}/")
            products.update(PRODUCT_LINK.findall(page))
        self.products = sorted(products)
        self.words = sorted({word.lower() for word in re.findall(r">([A-Z][A-Z ]{6,40})<", home)} or {"heart"})
        self.words = [phrase.split()[0] for phrase in self.words]
        if not self.categories or not self.products:
            raise RuntimeError("the shop's pages list no categories or products")
        self.results.clear()

    def record(self, result: Result, text: str) -> None:
        with self.lock:
            self.results.append(result)
            if result.status >= 500 and "Traceback" in text:
                self.tracebacks += 1

    def start(self, concurrency: int) -> None:
        self._stop.clear()
        for index in range(concurrency):
            rng = random.Random(self.seed * 100_003 + index + len(self._threads) * 7919)
            thread = threading.Thread(target=self._loop, args=(rng,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()
        self._threads.clear()

    def _loop(self, rng: random.Random) -> None:
        while not self._stop.is_set():
            Shopper(self, rng).visit()

    def run(self, concurrency: int, duration: float) -> list[Result]:
        """Run for ``duration`` seconds (visits under way finish); returns the results of this run."""
        first = len(self.results)
        self.start(concurrency)
        time.sleep(duration)
        self.stop()
        return self.results[first:]


def summarize(results: list[Result], seconds: float) -> dict[str, float]:
    """Throughput, latency percentiles (ms) and error rate of a run."""
    latencies = sorted(result.seconds * 1000 for result in results)
    errors = sum(1 for result in results if not 200 <= result.status < 400)
    p99 = statistics.quantiles(latencies, n=100)[98] if len(latencies) >= 2 else (latencies or [0])[0]
    return {
        "requests": len(results),
        "rps": len(results) / seconds if seconds else 0.0,
        "p50": statistics.median(latencies) if latencies else 0.0,
        "p99": p99,
        "errors": errors,
        "error_rate": errors / len(results) if results else 0.0,
    }


@dataclass
class CountCheck:
    """The ledger against the database: per event type, events expected, stored, missing, extra."""

    rows: dict[str, tuple[int, int, int, int]]
    beacon_keys_expected: int
    beacon_keys_stored: int

    @property
    def exact(self) -> bool:
        no_gaps = all(missing == 0 and extra == 0 for _, _, missing, extra in self.rows.values())
        return no_gaps and self.beacon_keys_expected == self.beacon_keys_stored

    def table(self) -> str:
        lines = ["| event type | sent | stored | missing | duplicated or unexpected |", "|---|---:|---:|---:|---:|"]
        for kind, (sent, stored, missing, extra) in sorted(self.rows.items()):
            lines.append(f"| {kind} | {sent:,} | {stored:,} | {missing:,} | {extra:,} |")
        lines.append(
            f"| beacon idempotency keys | {self.beacon_keys_expected:,} | {self.beacon_keys_stored:,} |"
            f" {self.beacon_keys_expected - self.beacon_keys_stored:,} | |"
        )
        return "\n".join(lines)


def check_counts(stack, ledger: Ledger) -> CountCheck:
    """Compare, visitor by visitor and type by type, what was sent with what the database holds."""
    visitors = sorted(ledger.counts)
    stored = stack.stored_counts(visitors)
    rows: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    kinds = {kind for counts in ledger.counts.values() for kind in counts} | {kind for _, kind in stored}
    for visitor in visitors:
        for kind in kinds:
            sent, held = ledger.counts[visitor][kind], stored.get((visitor, kind), 0)
            row = rows[kind]
            row[0] += sent
            row[1] += held
            row[2] += max(sent - held, 0)
            row[3] += max(held - sent, 0)
    keys = sorted(ledger.beacon_keys)
    held_keys = stack.stored_keys(keys) if keys else set()
    return CountCheck({kind: tuple(row) for kind, row in rows.items()}, len(keys), len(held_keys))
