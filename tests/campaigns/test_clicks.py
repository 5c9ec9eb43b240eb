"""A campaign link: the click is recorded once for the customer and the visitor lands on the page;
a bad link is a clean 400; purchases after a click are attributed; the admin shows the lift the
statistics engine computes on the stored data."""

from __future__ import annotations

import re
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from promotions.campaigns import tokens
from promotions.campaigns.attribution import campaign_report
from promotions.campaigns.export import export_campaign, record_export
from promotions.campaigns.models import Recipient, Unsubscribe
from promotions.experiments.stats.inference import MeanStats, ProportionStats, two_proportion_z_test, welch_t_test
from promotions.tracking.models import Event, Visitor

from .conftest import BROWSER, make_campaign, purchase

pytestmark = pytest.mark.django_db
GOOD_CARD = "4242 4242 4242 4242"


@pytest.fixture
def browser(client):
    client.defaults["HTTP_USER_AGENT"] = BROWSER
    client.cookies["shop_consent"] = "yes"
    return client


def link_path(campaign, customer: str, kind: str, target: str, expires_in: float = 3600) -> str:
    token = tokens.make_token(tokens.Link(campaign.pk, customer, kind, target, int(time.time() + expires_in)))
    return reverse("promotions:campaign_link", args=[token])


def exported(campaign):
    result = export_campaign(campaign, "https://shop.example")
    record_export(campaign, result)
    return result


def test_a_click_is_stored_once_for_the_customer_and_redirects(shop, browser):
    bob = shop["bob"]
    campaign = make_campaign()
    exported(campaign)
    response = browser.get(link_path(campaign, f"u:{bob.pk}", tokens.PRODUCT, "C2"))
    assert response.status_code == 302 and response["Location"] == reverse("shop:product", args=["C2"])
    click = Event.objects.get(event_type="campaign_click")
    assert (click.item_id, click.user_id) == ("C2", bob.pk)
    assert click.context == {"campaign": campaign.pk, "customer": f"u:{bob.pk}", "link": "product"}
    assert click.visitor_id == response.wsgi_request.visitor_id
    assert Visitor.objects.get(key=click.visitor_id).user == bob  # the browser is now known as bob's
    assert Event.objects.count() == 6  # the fixture's five purchases and this one click

    promotion = shop["promotions"][0]
    response = browser.get(link_path(campaign, f"u:{bob.pk}", tokens.PROMOTION, str(promotion.pk)))
    assert response.status_code == 302 and response["Location"] == "/"
    assert Event.objects.get(event_type="campaign_click", promotion_id=promotion.pk).user_id == bob.pk


def test_a_visitor_who_declined_tracking_is_redirected_and_not_recorded(shop, browser):
    campaign = make_campaign()
    browser.cookies["shop_consent"] = "no"
    response = browser.get(link_path(campaign, f"u:{shop['bob'].pk}", tokens.PRODUCT, "C2"))
    assert response.status_code == 302 and not Event.objects.filter(event_type="campaign_click").exists()


@pytest.mark.parametrize("damage", ["tamper", "expire", "unknown campaign", "garbage"])
def test_a_bad_link_is_a_clean_400_and_stores_nothing(shop, browser, damage):
    campaign = make_campaign()
    path = link_path(campaign, f"u:{shop['bob'].pk}", tokens.PRODUCT, "C2", expires_in=-1 if damage == "expire" else 60)
    if damage == "tamper":
        token = path.split("/")[-2]
        path = path.replace(token, token[:5] + ("A" if token[5] != "A" else "B") + token[6:])
    elif damage == "unknown campaign":
        path = link_path(type(campaign)(pk=campaign.pk + 1), "u:1", tokens.PRODUCT, "C2")
    elif damage == "garbage":
        path = reverse("promotions:campaign_link", args=["not-a-token"])
    visitors = Visitor.objects.count()
    response = browser.get(path)
    assert response.status_code == 400 and b"Traceback" not in response.content
    assert ("expired" if damage == "expire" else "not valid") in response.content.decode()
    assert not Event.objects.filter(event_type="campaign_click").exists() and Visitor.objects.count() == visitors
    assert not Unsubscribe.objects.exists()


def test_unsubscribe_asks_then_records_and_the_next_export_leaves_them_out(shop):
    browser = Client(enforce_csrf_checks=True, HTTP_USER_AGENT=BROWSER)
    campaign = make_campaign()
    path = link_path(campaign, "ext:C7", tokens.UNSUBSCRIBE, "")
    page = browser.get(path)
    assert page.status_code == 200 and not Unsubscribe.objects.exists()  # a mail scanner's GET
    assert browser.post(path).status_code == 403 and not Unsubscribe.objects.exists()  # a forged form
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())[1]
    assert browser.post(path, {"csrfmiddlewaretoken": token}).status_code == 200
    assert Unsubscribe.objects.get().customer_key == "ext:C7"
    assert "ext:C7" not in {row["customer_id"] for row in export_campaign(make_campaign(), "https://x").rows}


def test_a_purchase_after_a_click_is_attributed_within_the_window_only(shop, browser):
    bob = shop["bob"]
    campaign = make_campaign(attribution_days=7)
    exported(campaign)
    browser.get(link_path(campaign, f"u:{bob.pk}", tokens.PRODUCT, "C2"))
    # An anonymous checkout in the browser that clicked: a real order through the shop.
    browser.post(reverse("shop:cart_add", args=["C2"]), {"quantity": 2})
    browser.post(
        reverse("shop:checkout"), {"email": "bob@example.com", "shipping_address": "1 St", "card_number": GOOD_CARD}
    )
    report = campaign_report(campaign)
    assert (report.clicks, report.clickers, report.attributed_orders, report.attributed_revenue) == (1, 1, 1, 20.0)
    # A purchase by bob 8 days after his click is outside the window.
    click = Event.objects.get(event_type="campaign_click")
    purchase(click.visitor_id, "C3", click.occurred_at + timedelta(days=8), order="late")
    assert campaign_report(campaign).attributed_orders == 1
    purchase(click.visitor_id, "C3", click.occurred_at + timedelta(days=6), order="in-time")
    assert campaign_report(campaign).attributed_orders == 2


def test_the_admin_page_shows_the_lift_the_statistics_engine_gives(catalogue, admin_client):
    now = timezone.now()
    for n in range(120):
        purchase(f"ext:{n}", "L1", now - timedelta(days=2))
    campaign = make_campaign(holdout_share=Decimal("0.3"), promotion_count=0, product_count=1)
    exported(campaign)
    held = set(Recipient.objects.filter(holdout=True).values_list("customer_key", flat=True))
    sent = set(Recipient.objects.filter(holdout=False).values_list("customer_key", flat=True))
    # After the export: every third sent customer and every fifth held-out one buys again.
    spent = {}
    for n, key in enumerate(sorted(sent)):
        if n % 3 == 0:
            purchase(key, "L2", timezone.now() + timedelta(hours=1), price=str(5 + n % 7))
            spent[key] = 5 + n % 7
    for n, key in enumerate(sorted(held)):
        if n % 5 == 0:
            purchase(key, "L2", timezone.now() + timedelta(hours=1), price="6")
            spent[key] = 6
    purchase(sorted(sent)[1], "L3", timezone.now() + timedelta(days=9))  # after the 7-day window: not counted
    treated = ProportionStats(len(sent), sum(key in spent for key in sent))
    holdout = ProportionStats(len(held), sum(key in spent for key in held))
    conversion = two_proportion_z_test(holdout, treated)
    revenue = welch_t_test(
        MeanStats.from_values([spent.get(k, 0.0) for k in held]),
        MeanStats.from_values([spent.get(k, 0.0) for k in sent]),
    )
    page = admin_client.get(reverse("admin:promotions_campaign_change", args=[campaign.pk])).content.decode()
    cells = re.search(r'<tr class="treated"><th>[^<]*</th><td>(\d+)</td><td>([\d.]+)</td>', page)
    assert (int(cells[1]), float(cells[2])) == (treated.n, pytest.approx(float(treated.mean), abs=5e-5))
    cells = re.search(r'<tr class="holdout"><th>[^<]*</th><td>(\d+)</td><td>([\d.]+)</td>', page)
    assert (int(cells[1]), float(cells[2])) == (holdout.n, pytest.approx(float(holdout.mean), abs=5e-5))
    figures = re.search(
        r'class="conversion-lift">[^:]*: (-?[\d.]+) \([^)]*?(-?[\d.]+) … (-?[\d.]+)\), p = ([\d.]+)', page
    )
    expected = (conversion.abs_lift, conversion.ci_low, conversion.ci_high, conversion.p_value)
    assert [float(x) for x in figures.groups()] == [pytest.approx(float(v), abs=5e-5) for v in expected]
    figures = re.search(r'class="revenue-lift">[^:]*: (-?[\d.]+) \([^)]*?(-?[\d.]+) … (-?[\d.]+)\), p = ([\d.]+)', page)
    expected = (revenue.abs_lift, revenue.ci_low, revenue.ci_high, revenue.p_value)
    assert [float(x) for x in figures.groups()] == [
        pytest.approx(float(v), abs=5e-3 if i < 3 else 5e-5) for i, v in enumerate(expected)
    ]


def test_the_admin_action_exports_one_campaign(shop, admin_client):
    campaign = make_campaign()
    changelist = reverse("admin:promotions_campaign_changelist")
    response = admin_client.post(changelist, {"action": "export_csv", "_selected_action": [campaign.pk]})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    lines = response.content.decode().splitlines()
    assert len(lines) == 4 and "http://testserver/promotions/c/" in lines[1]
    assert Recipient.objects.filter(campaign=campaign).count() == 3
    other = make_campaign(name="Other")
    response = admin_client.post(
        changelist, {"action": "export_jsonl", "_selected_action": [campaign.pk, other.pk]}, follow=True
    )
    assert "Select one campaign to export." in response.content.decode()


def test_exporting_needs_the_change_permission(shop, django_user_model):
    """Rows hold customers' e-mail addresses and exporting records the recipients: view is not enough."""
    campaign = make_campaign()
    editor = django_user_model.objects.create_user("editor", is_staff=True)
    editor.user_permissions.add(Permission.objects.get(codename="view_campaign"))
    client = Client()
    client.force_login(editor)
    changelist = reverse("admin:promotions_campaign_changelist")
    assert 'value="export_csv"' not in client.get(changelist).content.decode()
    response = client.post(changelist, {"action": "export_csv", "_selected_action": [campaign.pk]})
    assert not response.get("Content-Type", "").startswith("text/csv") and not Recipient.objects.exists()
    editor.user_permissions.add(Permission.objects.get(codename="change_campaign"))
    response = client.post(changelist, {"action": "export_csv", "_selected_action": [campaign.pk]})
    assert response["Content-Type"].startswith("text/csv") and Recipient.objects.count() == 3


def test_without_purchases_since_the_export_the_page_shows_no_lift(catalogue, admin_client):
    for n in range(40):
        purchase(f"ext:{n}", "L1", timezone.now() - timedelta(days=2))
    campaign = make_campaign(holdout_share=Decimal("0.5"), promotion_count=0, product_count=1)
    exported(campaign)
    report = campaign_report(campaign)
    assert report.treated.n >= 2 and report.holdout.n >= 2 and report.conversion is None and report.revenue is None
    page = admin_client.get(reverse("admin:promotions_campaign_change", args=[campaign.pk])).content.decode()
    assert "No lift to show yet" in page and "conversion-lift" not in page and "nan" not in page
