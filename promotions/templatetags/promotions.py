"""Template tags of the app: ``{% load promotions %}``."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from django import template
from django.templatetags.static import static
from django.urls import get_script_prefix, reverse
from django.utils.html import format_html

register = template.Library()


@register.simple_tag(takes_context=True)
def promotions_beacon(context: template.Context) -> str:
    """The script reporting impressions, clicks and dwell time, only for visitors who may be tracked."""
    request = context.get("request")
    state = getattr(request, "promotions", None)
    if state is None or not state.allowed:
        return ""
    return _beacon_tag(get_script_prefix())


@lru_cache(maxsize=8)
def _beacon_tag(script_prefix: str) -> str:
    # The same for every page of a deployment: built once, not on every render.
    return format_html(
        '<script src="{}" data-endpoint="{}" defer></script>',
        static("promotions/promotions.js"),
        reverse("promotions:events"),
    )


@register.simple_tag(takes_context=True)
def experiment(context: template.Context, key: str) -> Any:
    """``{% experiment "key" as variant %}``: the request's variant (``.key``, ``.config``) or None."""
    from ..experiments import variant_for

    request = context.get("request")
    return None if request is None else variant_for(request, key)
