"""Tags of the admin's analytics page: server-side SVG charts, percentages with their sample, money.

Charts are drawn as inline SVG by a template, so the page needs no JavaScript library and no
network access. Python only computes the geometry (numbers, formatted here so that the locale's
decimal comma never reaches an SVG attribute); every label goes through the template's
auto-escaping, so nothing is marked safe.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django import template
from django.template.defaultfilters import floatformat
from django.utils.formats import number_format
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from ..conf import app_settings
from ..money import format_money

register = template.Library()

WIDTH = 640
HEIGHT = 180
# Room for the value axis label on the left and the first/last category labels below.
LEFT = 48
BOTTOM = 22
TOP = 8
RIGHT = 8
# Up to this many categories each gets its label; longer series (days) label only both ends.
ALL_LABELS = 7

Number = int | float | Decimal


@dataclass(frozen=True)
class Mark:
    """One value of the series: its bar, and the point (cx, y) a line passes through."""

    label: str
    value: Number
    x: str
    y: str
    width: str
    height: str
    cx: str


def _fmt(number: float) -> str:
    return f"{number:.1f}"


def _marks(series: Sequence[tuple[str, Number]]) -> list[Mark]:
    plot_width, plot_height = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    top_value = max((float(value) for _, value in series), default=0) or 1.0
    slot = plot_width / max(len(series), 1)
    marks = []
    for index, (label, value) in enumerate(series):
        height = plot_height * max(float(value), 0) / top_value
        x = LEFT + index * slot
        marks.append(
            Mark(
                label=str(label),
                value=value,
                x=_fmt(x + slot * 0.1),
                y=_fmt(TOP + plot_height - height),
                width=_fmt(slot * 0.8),
                height=_fmt(height),
                cx=_fmt(x + slot / 2),
            )
        )
    return marks


@register.inclusion_tag("admin/promotions/chart.html")
def svg_chart(series: Sequence[tuple[str, Number]], title: str, kind: str = "bar") -> dict:
    """An SVG ``bar`` or ``line`` chart of ``(label, value)`` pairs, scaled from zero to the largest value."""
    marks = _marks(series)
    return {
        "title": title,
        "kind": kind,
        "marks": marks,
        "points": " ".join(f"{mark.cx},{mark.y}" for mark in marks),
        "top_value": max((value for _, value in series), default=0),
        "width": WIDTH,
        "height": HEIGHT,
        "left": LEFT,
        "axis_x": LEFT - 4,
        "baseline": HEIGHT - BOTTOM,
        "label_y": HEIGHT - 6,
        "top": TOP,
        "top_label_y": TOP + 10,
        "right": WIDTH - RIGHT,
        "labels": _labels(marks),
    }


def _labels(marks: list[Mark]) -> list[dict[str, str]]:
    if len(marks) <= ALL_LABELS:
        return [{"x": mark.cx, "text": mark.label, "anchor": "middle"} for mark in marks]
    return [
        {"x": marks[0].cx, "text": marks[0].label, "anchor": "start"},
        {"x": marks[-1].cx, "text": marks[-1].label, "anchor": "end"},
    ]


@register.filter
def percent(rate: float | None) -> str:
    """A rate between 0 and 1 as a localized percentage; a dash when it is undefined."""
    if rate is None:
        return "\u2013"
    return f"{floatformat(rate * 100, 1)}%"


@register.filter
def grouped(number: Number | None) -> str:
    """A count with the locale's thousands separators ("1,573"); a dash when unknown."""
    return "\u2013" if number is None else number_format(number, force_grouping=True)


@register.filter
def money(amount: Number | None) -> str:
    """An amount in the shop's currency format ("£1,234.50"), the one helper of ``promotions.money``."""
    return format_money(amount)


#: What a rate's denominator counts, for the sample shown beside it.
SAMPLE_UNITS = ("visitors", "impressions")


@register.simple_tag
def sampled_rate(rate: float | None, sample: int, unit: str = "visitors") -> SafeString:
    """The rate with its sample size, or a dash when the sample is under ``ANALYTICS_MIN_SAMPLE``."""
    if unit not in SAMPLE_UNITS:
        raise template.TemplateSyntaxError(f"sampled_rate: unit must be one of {SAMPLE_UNITS}")
    minimum = app_settings.ANALYTICS_MIN_SAMPLE
    count = grouped(sample)
    if rate is None or sample < minimum:
        if unit == "visitors":
            note = _("too few visitors (%(count)s, at least %(minimum)s needed)")
        else:
            note = _("too few impressions (%(count)s, at least %(minimum)s needed)")
        return format_html(
            '\u2013 <small class="sample too-few">{}</small>', note % {"count": count, "minimum": grouped(minimum)}
        )
    if unit == "visitors":
        note = ngettext("of %(count)s visitor", "of %(count)s visitors", sample)
    else:
        note = ngettext("of %(count)s impression", "of %(count)s impressions", sample)
    return format_html('{} <small class="sample">{}</small>', percent(rate), note % {"count": count})
