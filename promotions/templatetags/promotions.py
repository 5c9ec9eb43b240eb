"""Template tags of the app: ``{% load promotions %}``."""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import Any
from urllib.parse import urlencode

from django import template
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.urls import get_script_prefix, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.translation import get_language, ngettext, pgettext

from ..money import format_money

register = template.Library()
logger = logging.getLogger(__name__)


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


# --- Filters of the tag templates (and of a shop's own) -----------------------------------------


@register.filter
def money(amount) -> str:
    """``{{ price|money }}``: "£2.95", in the shop's currency (``PROMOTIONS["CURRENCY"]``)."""
    return format_money(amount)


@register.filter
def reason(value) -> str:
    """``{{ pick.reason|reason }}``: the reason (a ``Reason``) worded in the page's language."""
    from ..serving.reasons import reason_text

    return reason_text(value)


@register.filter
def reason_heading(value) -> str:
    """``{{ reason|reason_heading }}``: the reason as the heading of the products sharing it."""
    from ..serving.reasons import reason_heading as heading

    return heading(value)


@register.filter
def reason_groups(picks) -> tuple:
    """``{% for why, group in picks|reason_groups %}``: the picks as blocks whose heading holds
    for every product in them (``promotions.serving.reasons.group_by_reason``)."""
    from ..serving.reasons import group_by_reason

    return group_by_reason(list(picks or ()))


@register.filter
def reason_key(value) -> str:
    """``kind|item|category``: the reason as data, for ``data-`` attributes (tests, scripts)."""
    if value is None:
        return ""
    key = "|".join((value.kind, value.item_id or "", value.category or ""))
    return f"{key}|{value.days}" if value.days else key


@register.filter
def promotion_badge(promotion) -> str:
    """The discount in a few words ("20% off", "£5 off", "Buy 2, get 1 free"); "" for a banner."""
    kind, value = promotion.kind, promotion.value
    if kind == "percentage":
        return pgettext("badge", "%(percent)s off") % {"percent": f"{value.normalize():f}%"}
    if kind == "fixed_amount":
        return pgettext("badge", "%(amount)s off") % {"amount": format_money(value, whole=True)}
    if kind == "fixed_price":
        return pgettext("badge", "Now %(amount)s") % {"amount": format_money(value, whole=True)}
    if kind == "buy_x_get_y" and promotion.buy_quantity and promotion.get_quantity:
        values = {"buy": promotion.buy_quantity, "free": promotion.get_quantity}
        return pgettext("badge", "Buy %(buy)s, get %(free)s free") % values
    if kind == "free_shipping":
        return pgettext("badge", "Free shipping")
    return ""


#: Within this many days of its end, a promotion says how many days are left rather than the date.
SOON_DAYS = 7


@register.simple_tag
def promotion_validity(promotion, today=None) -> str:
    """ "Until 24 December", "Ends in 3 days", "Ends today"; "" without an end."""
    if promotion.ends_at is None:
        return ""
    ends = timezone.localtime(promotion.ends_at).date()
    today = today or timezone.localdate()
    days = (ends - today).days
    if days <= 0:
        return pgettext("validity", "Ends today")
    if days <= SOON_DAYS:
        if days == 1:
            return pgettext("validity", "Ends tomorrow")
        return ngettext("Ends in %(count)s day", "Ends in %(count)s days", days) % {"count": days}
    return pgettext("validity", "Until %(date)s") % {"date": date_format(ends, "MONTH_DAY_FORMAT")}


@register.simple_tag(takes_context=True)
def experiment(context: template.Context, key: str) -> Any:
    """``{% experiment "key" as variant %}``: the request's variant (``.key``, ``.config``) or None."""
    from ..experiments import variant_for

    request = context.get("request")
    return None if request is None else variant_for(request, key)


# --- Personalized content -------------------------------------------------------------------
# Each tag renders an overridable template, or with ``as name`` puts its objects in the context
# for the shop's own markup; ``async=True`` renders a placeholder that promotions.js fills from
# the API (for pages behind a full-page cache). A tag never raises into the page.


class _ContentNode(template.Node):
    def __init__(self, function, args: list, kwargs: dict, target: str | None):
        self.function, self.args, self.kwargs, self.target = function, args, kwargs, target

    def render(self, context: template.Context) -> str:
        args = [arg.resolve(context) for arg in self.args]
        kwargs = {name: value.resolve(context) for name, value in self.kwargs.items()}
        request = context.get("request")
        if request is None:
            return ""
        request.promotions_personalized = True
        try:
            value, html = self.function(context, request, *args, as_variable=self.target is not None, **kwargs)
        except Exception:
            from ..fallbacks import log_fallback

            logger.exception("promotions: a template tag failed")
            log_fallback("tag_failed", tag=self.function.__name__)
            value, html = None, ""
        if self.target is not None:
            context[self.target] = value
            return ""
        return html


def _content_tag(function):
    """Register ``function(context, request, *args, as_variable, **kwargs) -> (value, html)``."""

    def compile_tag(parser: template.base.Parser, token: template.base.Token) -> _ContentNode:
        bits = token.split_contents()[1:]
        target = None
        if len(bits) >= 2 and bits[-2] == "as":
            target, bits = bits[-1], bits[:-2]
        args, kwargs = [], {}
        for bit in bits:
            found = template.base.token_kwargs([bit], parser)
            if found:
                kwargs.update(found)
            else:
                args.append(parser.compile_filter(bit))
        return _ContentNode(function, args, kwargs, target)

    register.tag(function.__name__, compile_tag)
    return function


#: Per process: rendered tag HTML by (template, language, live promotions' load time, values).
_fragments: dict[tuple, str] = {}
MAX_FRAGMENTS = 5_000


def forget_fragments() -> None:
    _fragments.clear()


def _render(name: str, context: template.Context, values: dict) -> str:
    """The tag's template with its own values, as inclusion tags render: within the page's
    context, so the context processors the page already ran are not run again.

    The values are frozen dataclasses (promotions shown, picks, cards), so they key a per-process
    cache of the HTML; the live promotions' load time is in the key because a promotion's other
    fields (its message, coupon) may change with it.
    """
    from ..conf import app_settings
    from ..offers.service import live_promotions_stamp

    key = None
    if app_settings.CACHE_TAG_HTML:
        try:
            frozen = tuple((k, tuple(v) if isinstance(v, list) else v) for k, v in sorted(values.items()))
            key = (name, get_language(), live_promotions_stamp(), frozen)
            hash(key)
        except TypeError:  # a value a shop passed in that cannot key a cache: render every time
            key = None
        html = _fragments.get(key) if key is not None else None
        if html is not None:
            return html
    engine = context.template.engine if context.template is not None else None
    if engine is None:
        html = render_to_string(name, values)
    else:
        extra = {} if app_settings.CACHE_TAG_HTML else {"request": context.get("request")}
        html = engine.get_template(name).render(context.new({**values, **extra}))
    if key is not None:
        if len(_fragments) >= MAX_FRAGMENTS:
            _fragments.clear()
        _fragments[key] = html
    return html


ASYNC_ENDPOINTS = {"promotions": "promotions:promotions", "recommendations": "promotions:recommendations"}


def _placeholder(request, kind: str, **query: Any) -> str:
    """An empty element that ``async.js`` replaces with the API's answer; the script is added once per page."""
    endpoint = ASYNC_ENDPOINTS["promotions" if kind == "promotions" else "recommendations"]
    url = f"{reverse(endpoint)}?{urlencode(query)}"
    html = format_html(
        '<div class="promotions-async" data-promotions-async="{}" data-slot="{}" data-url="{}"></div>',
        kind,
        query.get("slot", ""),
        url,
    )
    if not getattr(request, "_promotions_async_script", False):
        request._promotions_async_script = True
        html += format_html('<script src="{}" defer></script>', static("promotions/async.js"))
    return html


@_content_tag
def personalized_promotions(
    context, request, *, as_variable: bool, limit: int = 3, slot: str = "home", template_name: str = "", **options
):
    """``{% personalized_promotions limit=3 slot="home" %}``: the visitor's best promotions."""
    from ..serving.promotions import personalized_promotions as compute

    if options.get("async"):
        return None, _placeholder(request, "promotions", slot=slot, limit=int(limit))
    shown = compute(request, str(slot), int(limit))
    if as_variable:
        return shown, ""
    name = template_name or _variant_template(request, str(slot)) or "promotions/tags/promotions.html"
    return shown, _render(name, context, {"promotions": shown, "slot": slot, "today": timezone.localdate()})


@_content_tag
def recommended_products(context, request, *, as_variable: bool, limit: int = 8, slot: str = "home", **options):
    """``{% recommended_products limit=8 %}``: products picked for the visitor."""
    from ..serving.decide import decide
    from ..serving.recommendations import recommendations_for

    if options.get("async"):
        return None, _placeholder(request, "recommendations", slot=slot, limit=int(limit))
    decision = decide(request, str(slot))
    picks = recommendations_for(
        request, int(limit), personalized=decision.personalized, slot=str(slot), model_name=decision.model_name
    )
    if as_variable:
        return picks, ""
    name = options.get("template_name") or decision.template or "promotions/tags/products.html"
    return picks, _render(name, context, _picks_values(picks, slot))


@_content_tag
def similar_products(context, request, product, *, as_variable: bool, limit: int = 6, slot: str = "product", **options):
    """``{% similar_products product limit=6 %}``: products like this one."""
    from ..products import get_adapter
    from ..serving.recommendations import similar_to

    item_id = product if isinstance(product, str) else get_adapter().get_id(product)
    if options.get("async"):
        return None, _placeholder(request, "similar", slot=slot, limit=int(limit), product=item_id)
    picks = similar_to(request, item_id, int(limit), slot=str(slot))
    if as_variable:
        return picks, ""
    name = options.get("template_name") or "promotions/tags/products.html"
    return picks, _render(name, context, _picks_values(picks, slot))


@_content_tag
def buy_again(context, request, *, as_variable: bool, limit: int = 8, slot: str = "buy_again", **options):
    """``{% buy_again limit=8 %}``: the visitor's own products, those due again first."""
    from ..serving.buyagain import buy_again_for

    picks = buy_again_for(request, int(limit))
    if as_variable:
        return picks, ""
    name = options.get("template_name") or "promotions/tags/products.html"
    return picks, _render(name, context, _picks_values(picks, slot))


@_content_tag
def bought_together(
    context, request, items, *, as_variable: bool, limit: int = 4, slot: str = "bought_together", **options
):
    """``{% bought_together product limit=4 %}``: products often bought with this product; given a
    list (a cart's products or their ids), with all of them."""
    from ..products import get_adapter
    from ..serving.together import bought_together_for

    many = items if isinstance(items, (list, tuple, set, frozenset)) else [items]
    adapter = get_adapter()
    ids = [item if isinstance(item, str) else adapter.get_id(item) for item in many if item is not None]
    picks = bought_together_for([str(i) for i in ids], int(limit))
    if as_variable:
        return picks, ""
    name = options.get("template_name") or "promotions/tags/products.html"
    return picks, _render(name, context, {"picks": picks, "slot": slot, "kind": "recommendation"})


@_content_tag
def promotion_for(context, request, product, *, as_variable: bool, slot: str = "product", **options):
    """``{% promotion_for product %}``: the best promotion that applies to this product."""
    from ..cards import cards
    from ..products import get_adapter
    from ..serving.promotions import promotion_for as compute

    item_id = product if isinstance(product, str) else get_adapter().get_id(product)
    card = cards([item_id]).get(item_id)
    shown = compute(request, card, slot=str(slot)) if card is not None else None
    if as_variable:
        return shown, ""
    if shown is None:
        return None, ""
    name = options.get("template_name") or "promotions/tags/promotion_for.html"
    return shown, _render(name, context, {"promotion": shown, "slot": slot, "today": timezone.localdate()})


def _picks_values(picks: list, slot: str) -> dict:
    """What products.html gets (it groups the picks by reason itself: ``picks|reason_groups``)."""
    return {"picks": picks, "slot": slot, "kind": "recommendation"}


def _variant_template(request, slot: str) -> str | None:
    from ..serving.decide import decide

    return decide(request, slot).template
