"""promotions_import_events: counts, skips with reasons, idempotence, shift, bad input."""

import gzip
import os
import subprocess
import sys
from datetime import date, datetime, timedelta
from decimal import Decimal
from io import StringIO
from itertools import islice
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.utils import timezone

from promotions.tracking.importer import shift_for
from promotions.tracking.models import Event, Visitor
from shop_demo.models import Product

CSV = """user_id,item_id,timestamp,event,quantity,price
17850,A1,2010-12-01 08:26:00,purchase,6,2.55
17850,A1,2010-12-01 08:26:00,purchase,6,2.55
13047,A2,2010-12-02,view,,
13047,ZZ,2010-12-03T10:00:00,purchase,1,1.00
,A1,2010-12-03 10:00:00,purchase,1,1.00
13047,A2,2010-12-04 09:15:00,teleport,1,1.00
13047,A2,2010-12-05 09:15:00,purchase,-1,1.00
"""


@pytest.fixture
def catalogue(db):
    for code in ("A1", "A2"):
        Product.objects.create(stock_code=code, title=code, price=Decimal("1"))


def run(*args) -> str:
    out = StringIO()
    call_command("promotions_import_events", *map(str, args), stdout=out)
    return out.getvalue()


def test_import_counts_skips_and_is_idempotent(tmp_path, catalogue):
    path = tmp_path / "events.csv"
    path.write_text(CSV)
    output = run(path)
    assert "7 rows read, imported 3 events" in output
    for reason in ("unknown item", "empty user_id", "unknown event type 'teleport'", "quantity not positive"):
        assert f"skipped 1 rows: {reason}" in output
    # Identical lines are separate real rows.
    assert Event.objects.filter(visitor_id="ext:17850", item_id="A1").count() == 2
    first = Event.objects.filter(item_id="A1").first()
    assert (first.quantity, first.unit_price, first.event_type) == (6, Decimal("2.55"), "purchase")
    assert first.occurred_at == datetime(2010, 12, 1, 8, 26, tzinfo=ZoneInfo(settings.TIME_ZONE))
    assert Visitor.objects.filter(kind="external").count() == 2
    again = run(path)
    assert "imported 0 events" in again and "skipped 3 rows: already imported" in again
    assert Event.objects.count() == 3


def test_shift_moves_the_last_event_onto_the_date_keeping_time_of_day(tmp_path, catalogue):
    path = tmp_path / "events.csv"
    path.write_text(CSV)
    run(path, "--shift-to", "2026-11-27", "--create-items")
    last = timezone.localtime(Event.objects.order_by("-occurred_at").first().occurred_at)
    # The last importable row (2010-12-03 10:00, product ZZ created on the way) lands on the date.
    assert (last.date(), last.hour, last.minute) == (date(2026, 11, 27), 10, 0)
    assert Product.objects.filter(stock_code="ZZ").exists()


def test_dry_run_writes_nothing(tmp_path, catalogue):
    path = tmp_path / "events.csv"
    path.write_text(CSV)
    assert "would import 3 events" in run(path, "--dry-run")
    assert Event.objects.count() == 0


def test_column_mapping(tmp_path, catalogue):
    path = tmp_path / "other.csv"
    path.write_text("customer,sku,when\nc1,A1,2011-01-01 10:00\n")
    run(path, "--user-col", "customer", "--item-col", "sku", "--timestamp-col", "when")
    assert Event.objects.get().visitor_id == "ext:c1"


@pytest.mark.parametrize(
    "content,message",
    [
        ("user,item\n1,2\n", "missing column(s) user_id, item_id, timestamp"),
        ("user_id,item_id,timestamp\n1,A1,yesterday\n", "line 2: unparseable timestamp 'yesterday'"),
        ("user_id,item_id,timestamp,quantity\n1,A1,2011-01-01,six\n", "line 2: quantity 'six'"),
    ],
)
def test_bad_input_is_one_clear_error_and_writes_nothing(tmp_path, catalogue, content, message):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(CommandError, match=message.replace("(", r"\(").replace(")", r"\)")) as error:
        run(path)
    assert error.value.returncode == 2
    assert Event.objects.count() == 0


def test_unreadable_and_missing_files(tmp_path, catalogue):
    broken = tmp_path / "broken.csv.gz"
    broken.write_bytes(b"not gzip at all")
    with pytest.raises(CommandError, match="cannot be read"):
        run(broken)
    with pytest.raises(CommandError, match="no such file"):
        run(tmp_path / "absent.csv")


def test_command_line_exit_code_and_single_line(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("user,item\n")
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "-v0"], cwd=settings.BASE_DIR, env=env, check=True)  # noqa: S603
    result = subprocess.run(  # noqa: S603
        [*manage, "promotions_import_events", str(path)],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "missing column" in result.stderr


def test_slice_of_the_shared_file(tmp_path, datasets_dir, db):
    source = datasets_dir / "online-retail" / "interactions.csv.gz"
    lines = list(islice(gzip.open(source, "rt", encoding="utf-8"), 2001))
    items = {line.split(",")[1] for line in lines[1:]}
    Product.objects.bulk_create([Product(stock_code=code, title=code, price=Decimal("1")) for code in items])
    path = tmp_path / "slice.csv.gz"
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        handle.writelines(lines)
    assert "2,000 rows read, imported 2,000 events" in run(path)
    assert Event.objects.count() == 2000
    assert "imported 0 events" in run(path)


def test_shift_moves_whole_days_and_keeps_the_time_of_day():
    last = datetime(2011, 12, 9, 12, 50)
    delta = shift_for(last, date(2024, 6, 30))
    assert last + delta == datetime(2024, 6, 30, 12, 50)
    assert delta % timedelta(days=1) == timedelta(0)


def test_import_bounds_ids_with_the_capture_limits(tmp_path, catalogue):
    # NUL is removed (PostgreSQL text cannot hold it); an id longer than its column is skipped,
    # never cut (a cut id would name another product or customer); huge numbers are skipped.
    long_item, long_user = "B" * 65, "9" * 61
    path = tmp_path / "events.csv"
    path.write_text(
        "user_id,item_id,timestamp,event,quantity,price\n"
        "178\x0050,A1,2010-12-01 08:26:00,purchase,1,2.55\n"
        f"17850,{long_item},2010-12-01 08:26:00,purchase,1,2.55\n"
        f"{long_user},A1,2010-12-01 08:26:00,purchase,1,2.55\n"
        "17850,A1,2010-12-01 08:26:00,purchase,9999999999,2.55\n"
        "17850,A1,2010-12-01 08:26:00,purchase,1,123456789\n"
        "17850,A1,2010-12-01 08:26:00,purchase,1,NaN\n"
    )
    output = run(path, "--create-items")
    assert "6 rows read, imported 1 events" in output, output
    for reason in ("item_id longer than 64 characters", "user_id longer than 60 characters", "quantity too large",
                   "price too large", "price not a number"):  # fmt: skip
        assert f"skipped 1 rows: {reason}" in output, output
    assert Event.objects.get().visitor_id == "ext:17850"
    assert not Product.objects.filter(stock_code=long_item).exists()
