"""Exporting a campaign: who is in each segment, the rows in both formats, the signed links, the
holdout, the customers left out, and a failing customer skipped."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from promotions.campaigns import export as campaign_export
from promotions.campaigns import tokens
from promotions.campaigns.export import customer_request, export_campaign, flat_row, record_export, rows_text
from promotions.campaigns.models import Campaign, Recipient, Unsubscribe
from promotions.campaigns.segments import segment_customers
from promotions.experiments.stats.assignment import hash_point
from promotions.serving.recommendations import recommendations_for
from promotions.tracking import privacy
from tests.offers.conftest import visitor_request

from .conftest import ALICE_COOKIE, make_campaign, purchase

pytestmark = pytest.mark.django_db
BASE = "https://shop.example"
ROOT = Path(__file__).resolve().parents[2]


def keys(campaign: Campaign) -> list[str]:
    return [c.key for c in segment_customers(campaign, timezone.now())]


def test_segments_recent_category_and_lapsed(shop):
    alice, bob, carol = shop["alice"], shop["bob"], shop["carol"]
    assert keys(make_campaign(days=30)) == sorted([f"u:{alice.pk}", f"u:{bob.pk}", "ext:C7"])
    assert keys(make_campaign(days=7)) == sorted([f"u:{alice.pk}", "ext:C7"])
    assert keys(make_campaign(segment="category", category="candles", days=30)) == [f"u:{bob.pk}"]
    assert keys(make_campaign(segment="category", category="Lanterns", days=365)) == sorted(
        [f"u:{alice.pk}", f"u:{carol.pk}"]
    )
    assert keys(make_campaign(segment="lapsed", days=30)) == [f"u:{carol.pk}"]
    assert keys(make_campaign(segment="lapsed", days=4)) == sorted([f"u:{bob.pk}", f"u:{carol.pk}", "ext:C7"])


def test_rows_in_both_formats_with_links_that_verify(shop):
    alice = shop["alice"]
    campaign = make_campaign(promotion_count=2, product_count=3)
    result = export_campaign(campaign, BASE + "/")
    assert [row["customer_id"] for row in result.rows] == sorted([f"u:{alice.pk}", f"u:{shop['bob'].pk}", "ext:C7"])
    assert not result.held_out and not result.skipped
    row = next(r for r in result.rows if r["customer_id"] == f"u:{alice.pk}")
    assert row["email"] == "alice@example.com"
    ext = next(r for r in result.rows if r["customer_id"] == "ext:C7")
    assert ext["email"] == ""
    # The products are the list the site shows alice on a page of hers.
    page = visitor_request(visitor_id=ALICE_COOKIE, user=alice)
    assert [p["id"] for p in row["products"]] == [p.card.id for p in recommendations_for(page, 3, slot="home")]
    assert len(row["products"]) == 3 and all(p["price"] == "10.00" and p["name"] for p in row["products"])
    assert {p["title"] for p in row["promotions"]} == {"20% off candles", "10% off everything"}
    assert {p["discount"] for p in row["promotions"]} == {"20% off", "10% off"}
    for item, kind in [
        *((p, tokens.PROMOTION) for p in row["promotions"]),
        *((p, tokens.PRODUCT) for p in row["products"]),
    ]:
        assert item["url"].startswith(BASE + "/promotions/c/")
        link = tokens.read_token(item["url"].removeprefix(BASE + "/promotions/c/").rstrip("/"))
        assert (link.campaign_id, link.customer, link.kind, link.target) == (
            campaign.pk, f"u:{alice.pk}", kind, str(item["id"])
        )  # fmt: skip
        assert link.expires_at > timezone.now().timestamp() + 29 * 86400
    lines = rows_text(campaign, result.rows, "jsonl").splitlines()
    assert [json.loads(line) for line in lines] == result.rows
    table = list(csv.DictReader(io.StringIO(rows_text(campaign, result.rows, "csv"))))
    assert len(table) == 3 and table[0].keys() >= {"customer_id", "email", "promotion_2_code", "product_3_url"}
    assert [{k: v for k, v in t.items() if v} for t in table] == [
        {k: v for k, v in flat_row(r).items() if v} for r in result.rows
    ]
    assert not Recipient.objects.exists() and campaign.exported_at is None  # nothing stored until recorded
    record_export(campaign, result)
    assert Recipient.objects.filter(campaign=campaign, holdout=False).count() == 3


def test_a_coupon_promotion_carries_its_reusable_code(shop):
    candles = shop["promotions"][0]
    candles.coupon_required = True
    candles.save()
    candles.codes.create(code="ONCE1", single_use=True)
    candles.codes.create(code="CANDLES20")
    assert campaign_export.promotion_code(candles) == "CANDLES20"


def test_holdout_is_a_deterministic_share_recorded_and_not_exported(catalogue):
    now = timezone.now()
    for n in range(300):
        purchase(f"ext:{n}", "L1", now - timedelta(days=2))
    campaign = make_campaign(holdout_share=Decimal("0.2"), promotion_count=0, product_count=1)
    result = export_campaign(campaign, BASE)
    held = set(result.held_out)
    expected = {
        f"ext:{n}"
        for n in range(300)
        if hash_point("promotions-campaign-holdout", f"campaign:{campaign.pk}", f"ext:{n}") < 0.2
    }
    assert held == expected and 0.12 < len(held) / 300 < 0.28
    assert not held & {row["customer_id"] for row in result.rows} and len(result.rows) + len(held) == 300
    record_export(campaign, result)
    assert set(Recipient.objects.filter(holdout=True).values_list("customer_key", flat=True)) == held
    again = export_campaign(campaign, BASE)
    assert set(again.held_out) == held  # the same customers on every export
    other = make_campaign(holdout_share=Decimal("0.2"), product_count=1)
    assert set(export_campaign(other, BASE).held_out) != held  # each campaign draws its own


def test_unsubscribed_inactive_and_erased_customers_are_left_out(shop):
    alice, bob = shop["alice"], shop["bob"]
    Unsubscribe.objects.create(customer_key="ext:C7")
    bob.is_active = False
    bob.save()
    privacy.erase_person(privacy.find_person(user=str(alice.pk)))
    assert keys(make_campaign()) == []
    assert not export_campaign(make_campaign(), BASE).rows


def test_a_failing_customer_is_reported_and_skipped(shop, monkeypatch):
    """Fault injection: the serving of one customer raises; the others are still exported."""
    real = campaign_export.personalized_promotions

    def failing_for_bob(request, *args, **kwargs):
        if request.user.pk == shop["bob"].pk:
            raise RuntimeError("model file unreadable")
        return real(request, *args, **kwargs)

    monkeypatch.setattr(campaign_export, "personalized_promotions", failing_for_bob)
    result = export_campaign(make_campaign(), BASE)
    assert result.skipped == [(f"u:{shop['bob'].pk}", "model file unreadable")]
    assert [row["customer_id"] for row in result.rows] == sorted([f"u:{shop['alice'].pk}", "ext:C7"])


def test_the_customer_request_is_served_as_their_own_page(shop):
    from promotions.campaigns.segments import Customer

    request = customer_request(Customer(f"u:{shop['alice'].pk}", shop["alice"].pk, visitor_ids=[ALICE_COOKIE]))
    assert request.user == shop["alice"] and request.promotions.allowed and request.visitor_id == ALICE_COOKIE
    assert customer_request(Customer("ext:C7")).visitor_id == "ext:C7"


def test_the_command_writes_the_file_and_records_the_export(shop, tmp_path):
    out = tmp_path / "spring.jsonl"
    err = io.StringIO()
    call_command(
        "promotions_campaign", "export", "--name", "Spring", "--segment", "recent", "--days", "7", "--holdout", "0",
        "--format", "jsonl", "--output", str(out), "--base-url", BASE, stderr=err,
    )  # fmt: skip
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["customer_id"] for r in rows] == sorted([f"u:{shop['alice'].pk}", "ext:C7"])
    campaign = Campaign.objects.get(name="Spring")
    assert campaign.exported_at is not None and campaign.recipients.count() == 2
    assert "2 rows, 0 customers held out, 0 skipped" in err.getvalue()
    again = io.StringIO()
    call_command("promotions_campaign", "export", "--campaign", str(campaign.pk), "--base-url", BASE, stdout=again)
    assert again.getvalue().splitlines()[0].startswith("customer_id,email,unsubscribe_url,promotion_1_title")


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["create", "--name", "X", "--segment", "loyal"], "Unknown segment 'loyal'"),
        (["create", "--name", "X", "--segment", "category"], "The category segment needs a category."),
        (["create", "--name", "X", "--segment", "recent", "--holdout", "2"], "holdout_share"),
        (["create", "--name", "X", "--segment", "recent", "--holdout", "0.1234"], "3 decimal places"),
        (["create", "--name", "X", "--segment", "recent", "--holdout", "a tenth"], "not a number: 'a tenth'"),
        (["export", "--campaign", "999", "--base-url", BASE], "No campaign has the id 999."),
        (["export", "--campaign", "1"], "--base-url"),
        (["export", "--campaign", "1", "--base-url", BASE, "--language", "xx"], "Unknown language 'xx'"),
        (["export", "--campaign", "1", "--base-url", BASE, "--output", "/nonexistent/x.csv"], "does not exist"),
    ],
)
def test_bad_input_is_one_command_error(shop, arguments, message):
    with pytest.raises(CommandError, match=message) as raised:
        call_command("promotions_campaign", *arguments)
    assert raised.value.returncode == 2 and "\n" not in str(raised.value)
    assert not Campaign.objects.exists() and not Recipient.objects.exists()


@pytest.mark.parametrize("arguments", [["create", "--name", "X", "--segment", "nope"], ["export", "--format", "xml"]])
def test_from_the_command_line_bad_input_prints_one_line_and_exits_2(arguments):
    run = subprocess.run(
        [sys.executable, "manage.py", "promotions_campaign", *arguments], cwd=ROOT, capture_output=True, text=True
    )
    assert run.returncode == 2 and run.stdout == ""
    assert len(run.stderr.strip().splitlines()) == 1 and "Traceback" not in run.stderr, run.stderr


def test_the_command_exports_in_the_language_asked(shop, tmp_path):
    shop["promotions"][0].message_zh_hans = "蜡烛八折"
    shop["promotions"][0].save()
    out = tmp_path / "zh.jsonl"
    call_command(
        "promotions_campaign", "export", "--name", "Spring", "--segment", "recent", "--holdout", "0",
        "--format", "jsonl", "-o", str(out), "--base-url", BASE, "--language", "zh-hans", stderr=io.StringIO(),
    )  # fmt: skip
    row = json.loads(out.read_text().splitlines()[0])
    assert {(p["title"], p["discount"]) for p in row["promotions"]} == {
        ("蜡烛八折", "减 20%"),
        ("10% off everything", "减 10%"),
    }


def test_create_prints_the_id_of_a_campaign_with_the_defaults(shop):
    out = io.StringIO()
    call_command("promotions_campaign", "create", "--name", "Autumn", "--segment", "lapsed", stdout=out)
    campaign = Campaign.objects.get(pk=int(out.getvalue()))
    assert (campaign.segment, campaign.days, campaign.holdout_share, campaign.promotion_count) == (
        "lapsed", 30, Decimal("0.1"), 3
    )  # fmt: skip


def test_the_report_command_prints_the_engine_figures(shop):
    campaign = make_campaign(holdout_share=Decimal("0.5"))
    record_export(campaign, export_campaign(campaign, BASE))
    out = io.StringIO()
    call_command("promotions_campaign", "report", "--campaign", str(campaign.pk), stdout=out)
    lines = out.getvalue().splitlines()
    sent = Recipient.objects.filter(campaign=campaign, holdout=False).count()
    assert lines[0] == f"Campaign {campaign.pk} Spring: {sent} customers sent, {3 - sent} held out."
    assert lines[1] == "Clicks: 0 by 0 customers; attributed: 0 orders, revenue 0.00."
    assert lines[4:6] == [
        "Lift in conversion: nothing to compare yet.",  # too few customers, or no purchase since the export
        "Lift in revenue per customer: nothing to compare yet.",
    ]
    assert lines[-1].startswith("Still measuring until ")
