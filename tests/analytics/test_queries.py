"""Each analytics query against the hand-built log of conftest.py, with answers worked out by hand."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from promotions.tracking import analytics

from .conftest import END, START

pytestmark = pytest.mark.django_db


def test_visitors_and_events_per_day(event_log):
    days = analytics.daily_activity(START, END)
    assert [(row.day, row.visitors, row.events) for row in days] == [
        (date(2024, 6, 1), 2, 8),  # A and E
        (date(2024, 6, 2), 3, 16),  # B, D and E
        (date(2024, 6, 3), 2, 4),  # F and C, including C's view at 23:30 London time
    ]


def test_days_are_london_days_not_utc_days(event_log):
    # 23:30 on 3 June in London is 22:30 UTC: the last day of the range holds it.
    assert analytics.daily_activity(END, END)[0].events == 4
    # 00:30 on 4 June in London is 23:30 UTC on 3 June, yet it belongs to 4 June.
    assert analytics.daily_activity(date(2024, 6, 4), date(2024, 6, 4))[0].events == 2
    assert analytics.daily_activity(date(2024, 5, 31), date(2024, 5, 31))[0].events == 2


def test_the_current_time_zone_decides_where_days_end(event_log):
    with timezone.override("UTC"):
        # In UTC, H's two events of 4 June 00:30 London time fall on 3 June.
        assert analytics.daily_activity(END, END)[0].events == 6


def test_quiet_days_are_listed_with_zeros(event_log):
    days = analytics.daily_activity(date(2024, 6, 3), date(2024, 6, 6))
    assert [row.events for row in days] == [4, 2, 0, 0]
    assert [row.day for row in days] == [date(2024, 6, 3) + timedelta(days=n) for n in range(4)]


def test_funnel_counts_each_step_among_visitors_of_the_step_before(event_log):
    funnel = analytics.funnel(START, END)
    # Viewers A, B, C; of them A and B added to cart (D did too, without a view); of those A bought
    # (D bought too, without a view). G and H viewed outside the range.
    assert (funnel.viewed, funnel.added_to_cart, funnel.purchased) == (3, 2, 1)
    assert funnel.view_to_cart == pytest.approx(2 / 3)
    assert funnel.cart_to_purchase == pytest.approx(1 / 2)
    assert funnel.overall == pytest.approx(1 / 3)


def test_click_through_rates(event_log):
    rates = analytics.click_through_rates(START, END)
    # 4 promotion impressions (A 2, B 2) and A's click; H's click on 4 June is outside.
    assert (rates.promotions.impressions, rates.promotions.clicks, rates.promotions.rate) == (4, 1, 0.25)
    assert (rates.recommendations.impressions, rates.recommendations.clicks) == (5, 2)
    assert rates.recommendations.rate == pytest.approx(0.4)


def test_revenue_and_revenue_per_visitor(event_log):
    figures = analytics.revenue(START, END)
    # A: 2 x 5.00 + 1 x 4.00, D: 1 x 7.50; G's 1,000.00 of 31 May is outside. Visitors A to F.
    assert figures.revenue == Decimal("21.50")
    assert figures.visitors == 6
    assert figures.arpu.quantize(Decimal("0.0001")) == Decimal("3.5833")


def test_top_products_by_views_and_revenue_with_titles(event_log):
    top = analytics.top_products(START, END)
    # Views: P2 by B once and C twice, P1 by A and B (G's and H's are outside).
    assert [(p.item_id, p.title, p.views) for p in top.by_views] == [
        ("P2", "Blue teapot", 3),
        ("P1", "Red spotty mug", 2),
    ]
    # Revenue: P1 10.00, the deleted product 7.50 (shown by its id, without a title), P2 4.00.
    assert [(p.item_id, p.title, p.revenue) for p in top.by_revenue] == [
        ("P1", "Red spotty mug", Decimal("10.00")),
        ("GONE", None, Decimal("7.50")),
        ("P2", "Blue teapot", Decimal("4.00")),
    ]


def test_top_products_limit(event_log):
    top = analytics.top_products(START, END, limit=1)
    assert [p.item_id for p in top.by_views] == ["P2"]
    assert [p.item_id for p in top.by_revenue] == ["P1"]


def test_searches_without_results_grouped_by_lower_cased_terms(event_log):
    terms = analytics.searches_without_results(START, END)
    # "Unicorn ", "unicorn" (E) and "UNICORN" (F) are one term; "lamp" found 3 results.
    assert [(t.query, t.searches, t.visitors) for t in terms] == [("unicorn", 3, 2), ("zebra", 1, 1)]


def test_an_empty_range_has_zeros_and_undefined_rates(event_log):
    day = date(2024, 7, 1)
    report = analytics.report(day, day)
    assert report.daily == [analytics.DailyActivity(day, 0, 0)]
    assert (report.funnel.viewed, report.funnel.overall) == (0, None)
    assert report.click_through.promotions.rate is None
    assert (report.revenue.revenue, report.revenue.arpu) == (Decimal(0), None)
    assert report.top_products.by_views == [] and report.searches_without_results == []


def test_report_gathers_every_figure(event_log):
    report = analytics.report(START, END)
    assert (report.start, report.end) == (START, END)
    assert len(report.daily) == 3
    assert report.funnel.purchased == 1
    assert report.revenue.revenue == Decimal("21.50")
