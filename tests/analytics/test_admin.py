"""The analytics page and the read-only Event admin."""

import pytest
from django.conf import settings
from django.contrib.auth.models import Permission
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from promotions.tracking.models import Event

from .conftest import event, purchase

ANALYTICS = "admin:promotions_event_analytics"
RANGE = {"start": "2024-06-01", "end": "2024-06-03"}
CHART = '<svg class="promotions-chart'  # the admin's own icons are SVG too

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, django_user_model):
    """A staff member who may view events, and nothing more."""
    user = django_user_model.objects.create_user("staff", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_event"))
    client.force_login(user)
    return client


def min_sample(value: int):
    return override_settings(PROMOTIONS={**settings.PROMOTIONS, "ANALYTICS_MIN_SAMPLE": value})


def test_analytics_page_shows_every_figure(admin_client, event_log):
    with min_sample(1):  # the hand-built log is tiny: every rate shown
        response = admin_client.get(reverse(ANALYTICS), RANGE)
    assert response.status_code == 200
    html = response.text
    assert html.count(CHART) == 3  # visitors per day, events per day, funnel
    assert '<strong id="figure-visitors">6</strong>' in html
    assert '<strong id="figure-revenue">£21.50</strong>' in html  # the demo's currency
    assert '<strong id="figure-arpu">£3.58</strong>' in html
    assert '<strong id="figure-conversion">33.3% <small class="sample">of 3 visitors</small></strong>' in html
    assert '<strong id="figure-promotion-ctr">25.0% <small class="sample">of 4 impressions</small>' in html
    assert '<strong id="figure-recommendation-ctr">40.0% <small class="sample">of 5 impressions</small>' in html
    assert "66.7%" in html and "50.0%" in html  # funnel step rates
    assert "Blue teapot" in html and "GONE" in html and "no longer in the catalogue" in html
    assert "<td>unicorn</td>" in html and "<td>zebra</td>" in html


def test_analytics_defaults_to_the_last_30_days(staff_client):
    response = staff_client.get(reverse(ANALYTICS))
    assert response.status_code == 200
    report = response.context["report"]
    assert report.end == timezone.localdate()
    assert len(report.daily) == 30
    assert CHART in response.text


@pytest.mark.parametrize(
    "query",
    [
        {"start": "2024-06-03", "end": "2024-06-01"},  # reversed
        {"start": "2024-02-30", "end": "2024-06-01"},  # no such day
        {"start": "2020-01-01", "end": "2024-06-01"},  # too long
        {"start": "2024-06-01"},  # half a range
    ],
)
def test_a_bad_range_is_a_form_error(admin_client, query):
    response = admin_client.get(reverse(ANALYTICS), query)
    assert response.status_code == 200
    assert response.context["form"].errors
    assert response.context["report"] is None
    assert "errornote" in response.text and CHART not in response.text


def test_analytics_refuses_non_staff(client, django_user_model):
    client.force_login(django_user_model.objects.create_user("customer"))
    response = client.get(reverse(ANALYTICS), RANGE)
    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))


def test_analytics_refuses_staff_who_may_not_view_events(client, django_user_model):
    client.force_login(django_user_model.objects.create_user("clerk", is_staff=True))
    assert client.get(reverse(ANALYTICS), RANGE).status_code == 403


def test_titles_and_terms_are_escaped(admin_client, products):
    products["P1"].title = "<script>alert(1)</script>"
    products["P1"].save()
    Event.objects.bulk_create(
        [
            event("view", "A", "2024-06-01 10:00", item_id="P1"),
            event("search", "A", "2024-06-01 10:00", query="<b>&", result_count=0),
        ]
    )
    html = admin_client.get(reverse(ANALYTICS), RANGE).text
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)" in html
    assert "<b>&amp;" not in html and "&lt;b&gt;&amp;amp;" not in html and "&lt;b&gt;&amp;" in html


def test_changelist_links_to_analytics_and_searches_by_visitor(admin_client, event_log):
    url = reverse("admin:promotions_event_changelist")
    response = admin_client.get(url, {"q": "F"})
    assert response.status_code == 200
    assert reverse(ANALYTICS) in response.text
    assert response.context["cl"].result_count == 2  # visitor F's searches
    assert admin_client.get(url, {"q": "GONE"}).context["cl"].result_count == 1  # by item id
    assert admin_client.get(url, {"q": "unic"}).context["cl"].result_count == 3  # by query


def test_changelist_filters_by_type_and_day(admin_client, event_log):
    url = reverse("admin:promotions_event_changelist")
    assert admin_client.get(url, {"event_type": "purchase"}).context["cl"].result_count == 4
    by_day = {"occurred_at__year": 2024, "occurred_at__month": 6, "occurred_at__day": 3}
    assert admin_client.get(url, by_day).context["cl"].result_count == 4


def test_event_admin_is_read_only(admin_client, event_log):
    an_event = Event.objects.first()
    change_url = reverse("admin:promotions_event_change", args=[an_event.pk])
    assert admin_client.get(reverse("admin:promotions_event_add")).status_code == 403
    assert admin_client.get(change_url).status_code == 200  # shown, not editable
    assert admin_client.post(change_url, {"event_type": "view"}).status_code == 403
    assert Event.objects.get(pk=an_event.pk).event_type == an_event.event_type


def test_only_superusers_may_delete_events(admin_client, staff_client, event_log):
    an_event = Event.objects.first()
    delete_url = reverse("admin:promotions_event_delete", args=[an_event.pk])
    assert staff_client.get(delete_url).status_code == 403
    assert admin_client.get(delete_url).status_code == 200


def test_rates_below_the_minimum_sample_show_a_dash_and_the_sample(admin_client, event_log):
    html = admin_client.get(reverse(ANALYTICS), RANGE).text  # default minimum: 30
    conversion = '<strong id="figure-conversion">\u2013 <small class="sample too-few">'
    assert conversion + "too few visitors (3, at least 30 needed)" in html
    assert "33.3%" not in html and "25.0%" not in html and "40.0%" not in html
    assert "too few impressions (4, at least 30 needed)" in html


def test_money_is_grouped_with_the_currency_and_a_wholesale_order_is_flagged(admin_client, products):
    shoppers = [purchase(f"V{number}", "2024-06-01 10:00", "P2", 1, "4.00") for number in range(40)]
    wholesale = purchase("W", "2024-06-02 10:00", "P1", 80_995, "2.08")
    Event.objects.bulk_create([*shoppers, wholesale])
    with override_settings(PROMOTIONS={**settings.PROMOTIONS, "CURRENCY": "EUR"}):
        html = admin_client.get(reverse(ANALYTICS), RANGE).text
    assert '<strong id="figure-revenue">€168,629.60</strong>' in html  # 80,995 x 2.08 + 40 x 4
    assert '<strong id="figure-visitors">41</strong>' in html
    table = html[html.index('id="top-by-revenue"') :]
    table = table[: table.index("</table>")]
    assert table.count("in one purchase") == 1 and "80,995 in one purchase" in table  # P1 only, not P2
    assert "€168,469.60" in table
