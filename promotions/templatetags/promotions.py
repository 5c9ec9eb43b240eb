"""Template tags of the app: ``{% load promotions %}``."""

from __future__ import annotations

from django import template
from django.templatetags.static import static
from django.urls import reverse
from django.utils.html import format_html

register = template.Library()


@register.simple_tag(takes_context=True)
def promotions_beacon(context: template.Context) -> str:
    """The script reporting impressions, clicks and dwell time, only for visitors who may be tracked."""
    request = context.get("request")
    state = getattr(request, "promotions", None)
    if state is None or not state.allowed:
        return ""
    return format_html(
        '<script src="{}" data-endpoint="{}" defer></script>',
        static("promotions/promotions.js"),
        reverse("promotions:events"),
    )
