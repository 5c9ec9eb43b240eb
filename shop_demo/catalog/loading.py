"""Load the demo shop's catalogue and order history from the Online Retail data.

The data lie in ``<datasets_dir>/online-retail/`` (``items.csv.gz``, ``interactions.csv.gz``).
Without that folder the shop loads the small sample shipped next to this module
(``sample_catalog.csv``, ``sample_history.csv``, same columns), so it still runs.

Both loaders are idempotent:

- ``load_catalogue`` creates the products it does not have yet (by stock code) and brings the
  title, description, price, category and brand of the others up to date.
- ``load_history`` loads nothing when any order has a ``customer_ref``: only imported orders
  carry one (orders placed in the shop belong to a user), so their presence means the history
  was loaded before. The load runs in one transaction, so a failed load leaves no orders behind
  and the next run starts afresh.
"""

from __future__ import annotations

import csv
import gzip
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from itertools import islice
from pathlib import Path
from typing import TextIO
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from promotions.tracking.importer import shift_for
from shop_demo.catalog.categories import FALLBACK_CATEGORY, NAMES_ZH_HANS, assign_categories
from shop_demo.models import Brand, Category, Order, OrderLine, Product

logger = logging.getLogger(__name__)

Progress = Callable[[int, int | None], None]

DATASET_FOLDER = "online-retail"
ITEMS_FILE = "items.csv.gz"
INTERACTIONS_FILE = "interactions.csv.gz"
SAMPLE_CATALOGUE = Path(__file__).with_name("sample_catalog.csv")
SAMPLE_HISTORY = Path(__file__).with_name("sample_history.csv")
BATCH_SIZE = 5000
CENT = Decimal("0.01")
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S"


# --- Shared helpers ----------------------------------------------------------------


def dataset_file(datasets_dir: Path | None, name: str, sample: Path) -> Path:
    """The data file ``name`` of the shared folder, or the built-in sample when it is absent."""
    if datasets_dir is not None:
        path = Path(datasets_dir) / DATASET_FOLDER / name
        if path.exists():
            return path
        logger.info("%s not found, loading the built-in sample %s", path, sample.name)
    return sample


def _open_text(path: Path) -> TextIO:
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8", newline="")
    return path.open(encoding="utf-8", newline="")


def _read_rows(path: Path) -> Iterator[dict[str, str]]:
    """Stream the rows of a (gzipped) CSV file as dicts, in constant memory."""
    with _open_text(path) as file:
        yield from csv.DictReader(file)


@lru_cache(maxsize=4096)
def to_price(text: str) -> Decimal:
    """A price of the data as pence-exact Decimal; a positive price never rounds down to zero."""
    return max(Decimal(text).quantize(CENT, rounding=ROUND_HALF_UP), CENT)


def batched(items: Iterable, size: int = BATCH_SIZE) -> Iterator[list]:
    """Lists of ``size`` items (the last one shorter); itertools.batched needs Python 3.12."""
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


def _report(progress: Progress | None, done: int, total: int | None) -> None:
    if progress is not None:
        progress(done, total)


# --- Catalogue ---------------------------------------------------------------------


@dataclass(frozen=True)
class CatalogueEntry:
    stock_code: str
    title: str
    category: str
    brand: str | None
    price: Decimal


def describe(title: str, category: str) -> str:
    """A short product description generated from the title and category."""
    sentence = " ".join(title.split()).strip(" ,.").capitalize()
    if category == FALLBACK_CATEGORY:
        return f"{sentence}. One of the many little finds of our gift shop."
    return f"{sentence}. Part of our {category.lower()} range."


def read_catalogue(path: Path) -> list[CatalogueEntry]:
    """The catalogue entries of an items file; rows without a category get one from their title."""
    rows = list(_read_rows(path))
    derived = assign_categories(row["title"] for row in rows if not row.get("category"))
    return [
        CatalogueEntry(
            stock_code=row["item_id"],
            title=row["title"],
            category=row.get("category") or derived[row["title"]],
            brand=row.get("brand") or None,
            price=to_price(row["price"]),
        )
        for row in rows
    ]


def _ensure_named(model: type[Category] | type[Brand], names: Iterable[str]) -> dict[str, Category | Brand]:
    """The rows of ``model`` (Category or Brand) with these names, creating the missing ones."""
    names = sorted(set(names))  # a stable order gives stable primary keys
    model.objects.bulk_create([model(name=name, slug=slugify(name)) for name in names], ignore_conflicts=True)
    return {row.name: row for row in model.objects.filter(name__in=names)}


def translate_categories() -> int:
    """Give the categories their Chinese names (``NAMES_ZH_HANS``) where they have none yet; a
    name staff changed is kept. Returns how many were named."""
    named = 0
    for name, chinese in NAMES_ZH_HANS.items():
        named += Category.objects.filter(name=name, name_zh_hans="").update(name_zh_hans=chinese)
    return named


def _product_fields(entry: CatalogueEntry, categories: dict, brands: dict) -> dict:
    return {
        "title": entry.title,
        "description": describe(entry.title, entry.category),
        "price": entry.price,
        "category_id": categories[entry.category].pk,
        "brand_id": brands[entry.brand].pk if entry.brand else None,
    }


def _is_current(product: Product, fields: dict) -> bool:
    return all(getattr(product, name) == value for name, value in fields.items())


def load_catalogue(datasets_dir: Path | None, progress: Progress | None = None) -> int:
    """Create or update the categories, brands and products of the catalogue; return the number
    of products created (0 when the catalogue was loaded before)."""
    entries = read_catalogue(dataset_file(datasets_dir, ITEMS_FILE, SAMPLE_CATALOGUE))
    total = len(entries)
    with transaction.atomic():
        categories = _ensure_named(Category, (entry.category for entry in entries))
        translate_categories()
        brands = _ensure_named(Brand, (entry.brand for entry in entries if entry.brand))
        existing = Product.objects.in_bulk([entry.stock_code for entry in entries], field_name="stock_code")
        to_create, to_update = [], []
        for entry in entries:
            fields = _product_fields(entry, categories, brands)
            product = existing.get(entry.stock_code)
            if product is None:
                to_create.append(Product(stock_code=entry.stock_code, in_stock=True, **fields))
            elif not _is_current(product, fields):
                for name, value in fields.items():
                    setattr(product, name, value)
                to_update.append(product)
        done = 0
        for batch in batched(to_create):
            Product.objects.bulk_create(batch)
            done += len(batch)
            _report(progress, done, total)
        Product.objects.bulk_update(to_update, ["title", "description", "price", "category", "brand"], BATCH_SIZE)
    _report(progress, total, total)
    return len(to_create)


# --- History -----------------------------------------------------------------------


def _scan(path: Path) -> tuple[int, datetime | None]:
    """Number of rows and latest timestamp of an interactions file (a first, cheap pass)."""
    count, latest = 0, ""
    for row in _read_rows(path):
        count += 1
        latest = max(latest, row["timestamp"])  # the fixed-width format sorts as text
    return count, datetime.strptime(latest, TIMESTAMP_FORMAT) if latest else None


class _Clock:
    """Turns the data's naive local timestamps into aware, shifted datetimes (cached: orders share them)."""

    def __init__(self, delta: timedelta) -> None:
        self.delta = delta
        self.zone = ZoneInfo(settings.TIME_ZONE)
        self.cache: dict[str, datetime] = {}

    def __call__(self, timestamp: str) -> datetime:
        moment = self.cache.get(timestamp)
        if moment is None:
            shifted = datetime.strptime(timestamp, TIMESTAMP_FORMAT) + self.delta
            moment = self.cache[timestamp] = shifted.replace(tzinfo=self.zone)
        return moment


class _HistoryWriter:
    """Writes purchase rows as orders (one per customer and timestamp) and their lines, in batches."""

    def __init__(self, clock: _Clock) -> None:
        self.clock = clock
        self.products = dict(Product.objects.values_list("stock_code", "pk"))
        self.orders: dict[tuple[str, str], int] = {}
        self.lines = 0
        self.skipped = 0

    def write(self, rows: Sequence[dict[str, str]]) -> None:
        known = [row for row in rows if row["item_id"] in self.products]
        self.skipped += len(rows) - len(known)
        self._create_orders(known)
        lines = [
            OrderLine(
                order_id=self.orders[row["user_id"], row["timestamp"]],
                product_id=self.products[row["item_id"]],
                quantity=int(row["quantity"]),
                unit_price=to_price(row["price"]),
            )
            for row in known
        ]
        OrderLine.objects.bulk_create(lines)
        self.lines += len(lines)

    def _create_orders(self, rows: list[dict[str, str]]) -> None:
        new = {}
        for row in rows:
            key = row["user_id"], row["timestamp"]
            if key not in self.orders and key not in new:
                new[key] = Order(customer_ref=key[0], created_at=self.clock(key[1]), status=Order.Status.PAID)
        Order.objects.bulk_create(new.values())  # sets the primary keys (PostgreSQL, SQLite >= 3.35)
        self.orders.update((key, order.pk) for key, order in new.items())


def history_loaded() -> bool:
    """Whether the order history was loaded before (see the module docstring)."""
    return Order.objects.exclude(customer_ref="").exists()


def load_history(
    datasets_dir: Path | None,
    shift_to: date | None = None,
    progress: Progress | None = None,
    path: Path | None = None,
) -> int:
    """Create the orders of the purchase history, shifted so that its last day is ``shift_to``
    (default: yesterday in the shop's time zone); return the number of order lines created.

    ``path`` reads another interactions file of the same columns (the demo's history without its
    held-out weeks) instead of the dataset's. Loads nothing (returns 0) when the history was loaded
    before. Rows of products missing from the catalogue are skipped, and their number is logged."""
    if history_loaded():
        return 0
    path = path or dataset_file(datasets_dir, INTERACTIONS_FILE, SAMPLE_HISTORY)
    total, last_timestamp = _scan(path)
    if last_timestamp is None:
        return 0
    target = shift_to or timezone.localdate() - timedelta(days=1)
    writer = _HistoryWriter(_Clock(shift_for(last_timestamp, target)))
    done = 0
    with transaction.atomic():
        for batch in batched(_read_rows(path)):
            writer.write(batch)
            done += len(batch)
            _report(progress, done, total)
    if writer.skipped:
        logger.warning("Skipped %d purchase rows of products missing from the catalogue", writer.skipped)
    return writer.lines
