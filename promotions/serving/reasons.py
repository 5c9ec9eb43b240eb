"""Reasons worded for the visitor, in the page's language, when they are shown.

The models, the caches and the API carry reasons as data (``Reason``: a kind, the item or the
category it names, see ``promotions.recommenders.base``); this module turns one into the sentence
a page shows, through gettext, so a Chinese page reads Chinese reasons. An item is named by its
product card's title; a category by ``PROMOTIONS["CATEGORY_NAME"]`` when the shop translates
its category names (the demo does), else as the product adapter reports it.
"""

from __future__ import annotations

from collections.abc import Callable

from django.utils.translation import gettext, ngettext, pgettext

from ..cards import cards
from ..conf import app_settings
from ..recommenders import Reason

# Each kind: (its sentence naming an item or a category, the sentence when it names nothing).
# pgettext: "reason" sets them apart from the same English words elsewhere in the app.
_ITEM_SENTENCES: dict[str, Callable[[], str]] = {
    "also_bought": lambda: pgettext("reason", "Customers who chose %(title)s also chose this"),
    "similar_content": lambda: pgettext("reason", "Similar to %(title)s, which you looked at"),
    "similar_taste": lambda: pgettext("reason", "Because you chose %(title)s"),
    "next_in_session": lambda: pgettext("reason", "Often chosen after %(title)s"),
    "viewed": lambda: pgettext("reason", "Because you viewed %(title)s"),
    "offer_viewed": lambda: pgettext("reason", "Offered because you viewed %(title)s"),
    "offer_picked": lambda: pgettext("reason", "Offered because it includes %(title)s, picked for you"),
    "offer_on": lambda: pgettext("reason", "On %(title)s"),
}
_CATEGORY_SENTENCES: dict[str, Callable[[], str]] = {
    "popular": lambda: pgettext("reason", "Popular in %(category)s"),
    "trending": lambda: pgettext("reason", "Trending in %(category)s"),
}
_PLAIN_SENTENCES: dict[str, Callable[[], str]] = {
    "similar_customers": lambda: pgettext("reason", "Customers with tastes like yours chose this"),
    "popular": lambda: pgettext("reason", "Popular with our customers"),
    "trending": lambda: pgettext("reason", "Trending now"),
    "best_seller": lambda: pgettext("reason", "Popular right now"),
    "featured": lambda: pgettext("reason", "Featured"),
    "buy_again": lambda: pgettext("reason", "Buy it again"),
    "bought_before": lambda: gettext("Bought before"),
    "bought_together": lambda: gettext("Often bought together"),
}

#: Kinds that name an item of the visitor's own history (a test checks each against it).
HISTORY_KINDS = frozenset({"also_bought", "similar_content", "similar_taste", "next_in_session", "viewed"})
#: Kinds that name the recommended item's own category.
CATEGORY_KINDS = frozenset(_CATEGORY_SENTENCES)


def category_name(name: str) -> str:
    """``name`` as the shop shows it in the active language (``PROMOTIONS["CATEGORY_NAME"]``)."""
    translate = app_settings.imported("CATEGORY_NAME")
    if translate is None or not name:
        return name
    try:
        return str(translate(name) or name)
    except Exception:  # a shop's hook must not break a page: the name as stored
        return name


def reason_text(reason: Reason | None, titles: dict[str, str] | None = None) -> str:
    """The sentence for ``reason`` in the active language; "" for None or a kind without one.
    ``titles`` (item id -> title) saves the card look-up when the caller has them."""
    if reason is None:
        return ""
    if reason.item_id and reason.kind in _ITEM_SENTENCES:
        title = (titles or {}).get(reason.item_id) or _title(reason.item_id)
        return _ITEM_SENTENCES[reason.kind]() % {"title": title}
    if reason.kind == "buy_again" and reason.days:
        sentence = ngettext("You buy this about every day", "You buy this about every %(days)d days", reason.days)
        return sentence % {"days": reason.days}
    if reason.category and reason.kind in _CATEGORY_SENTENCES:
        return _CATEGORY_SENTENCES[reason.kind]() % {"category": category_name(reason.category)}
    if reason.kind in _PLAIN_SENTENCES:
        return _PLAIN_SENTENCES[reason.kind]()
    return ""


#: A group's heading where the card's sentence would not read over several products.
_HEADINGS: dict[str, Callable[[], str]] = {
    "also_bought": lambda: pgettext("reason heading", "Often chosen with %(title)s"),
    "similar_customers": lambda: pgettext("reason heading", "Customers with tastes like yours chose these"),
}


def reason_heading(reason: Reason | None) -> str:
    """The reason worded as the heading of several products that share it."""
    if reason is None:
        return ""
    if reason.kind in _HEADINGS and (reason.item_id or reason.kind not in _ITEM_SENTENCES):
        heading = _HEADINGS[reason.kind]()
        return heading % {"title": _title(reason.item_id)} if reason.item_id else heading
    return reason_text(reason)


def _title(item_id: str) -> str:
    card = cards([item_id]).get(item_id)
    return card.title if card is not None else item_id


def group_by_reason(picks: list) -> tuple[tuple[Reason | None, tuple], ...]:
    """The picks as blocks whose heading holds for every product in them: each reason shared by
    two or more picks becomes a group (in the order of its best pick), the rest one last group
    with no shared reason (None), each card then saying its own. Tuples: the groups key a cache."""
    by_reason: dict[Reason, list] = {}
    for pick in picks:
        if pick.reason is not None:
            by_reason.setdefault(pick.reason, []).append(pick)
    shared = {reason for reason, members in by_reason.items() if len(members) > 1}
    groups: list[tuple[Reason | None, tuple]] = [(r, tuple(m)) for r, m in by_reason.items() if r in shared]
    rest = tuple(pick for pick in picks if pick.reason not in shared)
    if rest:
        groups.append((None, rest))
    return tuple(groups)


def reason_data(reason: Reason | None) -> dict[str, str | None] | None:
    """The reason as the API returns it beside its text: ``{"kind", "item_id", "category"}``."""
    if reason is None:
        return None
    return {"kind": reason.kind, "item_id": reason.item_id, "category": reason.category}
