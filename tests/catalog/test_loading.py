"""Loading the catalogue and the order history: built-in sample, small files and a slice of the real data."""

import csv
import gzip
import logging
from datetime import date, datetime, timedelta
from decimal import Decimal
from itertools import islice
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from shop_demo.catalog.loading import (
    SAMPLE_CATALOGUE,
    SAMPLE_HISTORY,
    describe,
    load_catalogue,
    load_history,
    to_price,
)
from shop_demo.models import Brand, Category, Order, OrderLine, Product

LONDON = ZoneInfo("Europe/London")
HISTORY_HEADER = ["user_id", "item_id", "timestamp", "event", "quantity", "price"]


def write_gzip_csv(path, header, rows):
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wt", encoding="utf-8", newline="") as file:
        writer = csv.writer(file, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def sample_row_count(path):
    with path.open(encoding="utf-8", newline="") as file:
        return sum(1 for _ in csv.DictReader(file))


# --- Pure helpers ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "price"),
    [("2.55", "2.55"), ("0.85", "0.85"), ("1.2450", "1.25"), ("0.001", "0.01"), ("165", "165.00")],
)
def test_to_price_rounds_to_pence_and_never_to_zero(text, price):
    assert to_price(text) == Decimal(price)
    assert to_price(text).as_tuple().exponent == -2


def test_describe_writes_a_sentence_from_title_and_category():
    assert describe("WHITE HANGING HEART T-LIGHT HOLDER", "Candles & Lights") == (
        "White hanging heart t-light holder. Part of our candles & lights range."
    )
    assert describe("ELEPHANT, BIRTHDAY CARD,", "Other").startswith("Elephant, birthday card. ")


# --- Catalogue ---------------------------------------------------------------------


@pytest.mark.django_db
def test_load_catalogue_without_data_loads_the_sample(tmp_path):
    created = load_catalogue(tmp_path)  # a folder without online-retail/
    assert created == Product.objects.count() == sample_row_count(SAMPLE_CATALOGUE)
    assert Category.objects.count() == 6
    assert Brand.objects.count() == 3
    product = Product.objects.get(stock_code="S0001")
    assert product.category.name == "Candles & Lights"
    assert product.brand.name == "Hartwell & Co"
    assert product.price == Decimal("3.95")
    assert product.in_stock
    assert product.description == "Ivory pillar candle vanilla. Part of our candles & lights range."


@pytest.mark.django_db
def test_load_catalogue_is_idempotent_and_updates_changed_products(tmp_path):
    items = tmp_path / "online-retail" / "items.csv.gz"
    rows = [[f"{10000 + n}", f"BLUE POLKADOT MUG {n}", "", "1.25"] for n in range(12)]
    rows += [["20000", "ZINC WILLIE WINKIE CANDLE STICK", "", "0.004"], ["20001", "SOMETHING NAMELESS", "", "2"]]
    write_gzip_csv(items, ["item_id", "title", "category", "price"], rows)

    assert load_catalogue(tmp_path) == 14
    assert Product.objects.get(stock_code="10000").category.name == "Mugs & Cups"
    assert Product.objects.get(stock_code="20000").price == Decimal("0.01")
    # A one-product category and an unmatched title fall back to the catch-all category.
    assert Product.objects.get(stock_code="20000").category.name == "Other"
    assert Product.objects.get(stock_code="20001").category.name == "Other"
    assert Product.objects.get(stock_code="20001").brand is None

    rows[0][3] = "1.50"
    write_gzip_csv(items, ["item_id", "title", "category", "price"], rows)
    assert load_catalogue(tmp_path) == 0
    assert Product.objects.count() == 14
    assert Category.objects.count() == 2
    assert Product.objects.get(stock_code="10000").price == Decimal("1.50")


@pytest.mark.django_db
def test_load_catalogue_reports_progress():
    calls = []
    load_catalogue(None, progress=lambda done, total: calls.append((done, total)))
    total = sample_row_count(SAMPLE_CATALOGUE)
    assert calls[-1] == (total, total)
    assert all(done <= total for done, _ in calls)


# --- History -----------------------------------------------------------------------


@pytest.mark.django_db
def test_load_history_of_the_sample():
    load_catalogue(None)
    target = date(2024, 6, 30)
    calls = []

    lines = load_history(None, shift_to=target, progress=lambda done, total: calls.append((done, total)))

    assert lines == OrderLine.objects.count() == sample_row_count(SAMPLE_HISTORY)
    assert calls[-1] == (lines, lines)
    latest = Order.objects.latest("created_at")
    assert timezone.localtime(latest.created_at).date() == target
    assert Order.objects.filter(customer_ref="").count() == 0
    assert Order.objects.values("customer_ref").distinct().count() == 40
    assert load_history(None, shift_to=target) == 0  # loaded before: nothing new
    assert OrderLine.objects.count() == lines


@pytest.fixture
def small_history(tmp_path):
    """A hand-made interactions file: 3 orders (two customers), one row of an unknown product."""
    rows = [
        ["17850", "S0001", "2010-12-01 08:26:00", "purchase", "6", "2.55"],
        ["17850", "S0002", "2010-12-01 08:26:00", "purchase", "2", "0.004"],
        ["13047", "S0001", "2010-12-01 08:34:00", "purchase", "1", "3.95"],
        ["13047", "99999", "2010-12-01 08:34:00", "purchase", "5", "1.00"],  # not in the catalogue
        ["17850", "S0003", "2011-06-09 12:50:00", "purchase", "3", "8.50"],  # the last day, summer time
    ]
    write_gzip_csv(tmp_path / "online-retail" / "interactions.csv.gz", HISTORY_HEADER, rows)
    return tmp_path


@pytest.mark.django_db
def test_load_history_groups_rows_into_orders_and_shifts_dates(small_history, caplog):
    load_catalogue(None)
    target = date(2024, 1, 15)  # winter, while the last day of the data is in summer time

    with caplog.at_level(logging.WARNING, logger="shop_demo.catalog.loading"):
        lines = load_history(small_history, shift_to=target)

    assert lines == 4
    assert "Skipped 1 purchase rows" in caplog.text
    orders = list(Order.objects.order_by("created_at"))
    assert [order.customer_ref for order in orders] == ["17850", "13047", "17850"]
    assert [order.lines.count() for order in orders] == [2, 1, 1]
    assert orders[0].total == Decimal("6") * Decimal("2.55") + 2 * Decimal("0.01")
    # The last order falls on the target day at its local time of day; the others keep their distance.
    last = timezone.localtime(orders[-1].created_at, LONDON)
    assert (last.date(), last.time()) == (target, datetime(2011, 6, 9, 12, 50).time())
    first = timezone.localtime(orders[0].created_at, LONDON)
    assert (first.time(), (last.date() - first.date()).days) == (datetime(2010, 12, 1, 8, 26).time(), 190)


@pytest.mark.django_db
def test_load_history_defaults_to_yesterday(small_history):
    load_catalogue(None)
    load_history(small_history)
    latest = Order.objects.latest("created_at")
    assert timezone.localtime(latest.created_at).date() == timezone.localdate() - timedelta(days=1)


@pytest.mark.data
@pytest.mark.django_db
def test_load_history_on_a_slice_of_the_real_data(datasets_dir, tmp_path):
    source = datasets_dir / "online-retail" / "interactions.csv.gz"
    with gzip.open(source, "rt", encoding="utf-8", newline="") as file:
        rows = list(islice(csv.DictReader(file), 2000))
    write_gzip_csv(
        tmp_path / "online-retail" / "interactions.csv.gz", HISTORY_HEADER, [list(row.values()) for row in rows]
    )
    load_catalogue(datasets_dir)

    lines = load_history(tmp_path, shift_to=date(2024, 3, 1))

    assert lines == len(rows)  # every product of the data is in its catalogue
    assert Order.objects.count() == len({(row["user_id"], row["timestamp"]) for row in rows})
    expected_revenue = sum(int(row["quantity"]) * to_price(row["price"]) for row in rows)
    assert sum(order.total for order in Order.objects.prefetch_related("lines")) == expected_revenue
    latest = Order.objects.latest("created_at")
    last_timestamp = max(datetime.fromisoformat(row["timestamp"]) for row in rows)
    assert timezone.localtime(latest.created_at).replace(tzinfo=None) == datetime.combine(
        date(2024, 3, 1), last_timestamp.time()
    )
