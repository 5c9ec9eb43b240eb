"""The server-side SVG charts: well-formed, escaped, scaled from zero to the largest value."""

import xml.etree.ElementTree as ET

import pytest
from django.template import Context, Template

from promotions.templatetags.promotions_admin import percent

SVG = "{http://www.w3.org/2000/svg}"


def render(series, title="Chart", kind="bar") -> ET.Element:
    template = Template("{% load promotions_admin %}{% svg_chart series title kind %}")
    return ET.fromstring(template.render(Context({"series": series, "title": title, "kind": kind})))


def test_bars_scale_to_the_largest_value_and_labels_are_escaped():
    svg = render([('<b a="1">&', 5), ("two", 10), ("none", 0)], title="<Views & clicks>")
    assert svg.find(f"{SVG}title").text == "<Views & clicks>"
    bars = svg.findall(f"{SVG}rect")
    assert [float(bar.get("height")) for bar in bars] == [75.0, 150.0, 0.0]
    assert bars[0].find(f"{SVG}title").text == '<b a="1">&: 5'
    assert [label.text for label in svg.findall(f"{SVG}text")][2:] == ['<b a="1">&', "two", "none"]


def test_line_passes_through_every_point():
    svg = render([("a", 1), ("b", 2)], kind="line")
    points = svg.find(f"{SVG}polyline").get("points").split()
    circles = svg.findall(f"{SVG}circle")
    assert points == [f"{c.get('cx')},{c.get('cy')}" for c in circles]


def test_long_series_label_only_both_ends():
    svg = render([(f"day {n}", n) for n in range(30)])
    assert [label.text for label in svg.findall(f"{SVG}text")][2:] == ["day 0", "day 29"]


def test_empty_or_all_zero_series_draw_without_error():
    assert render([]).findall(f"{SVG}rect") == []
    assert {rect.get("height") for rect in render([("a", 0), ("b", 0)]).findall(f"{SVG}rect")} == {"0.0"}


@pytest.mark.parametrize(("rate", "shown"), [(None, "\u2013"), (0.25, "25.0%"), (2 / 3, "66.7%"), (0, "0.0%")])
def test_percent(rate, shown):
    assert percent(rate) == shown
