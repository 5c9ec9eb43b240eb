"""Category names and links by the English name that promotions and reasons carry.

``category_name`` is the demo's ``PROMOTIONS["CATEGORY_NAME"]``: "Trending in 蜡烛与灯饰" on a
Chinese page. The categories are read once a minute per process (a few dozen rows).
"""

from __future__ import annotations

import time

from django.urls import reverse

from shop_demo.models import Category, localized

CATEGORIES_SECONDS = 60.0
_categories: tuple[float, dict[str, tuple[str, str]]] | None = None


def _by_name() -> dict[str, tuple[str, str]]:
    """English name -> (Chinese name, slug)."""
    global _categories
    if _categories is None or time.monotonic() - _categories[0] > CATEGORIES_SECONDS:
        rows = Category.objects.values_list("name", "name_zh_hans", "slug")
        _categories = (time.monotonic(), {name: (chinese, slug) for name, chinese, slug in rows})
    return _categories[1]


def forget_categories(*args, **kwargs) -> None:
    global _categories
    _categories = None


def category_name(name: str) -> str:
    """The category's name in the active language (its English name where it has no other)."""
    found = _by_name().get(name)
    return localized(name, found[0]) if found else name


def category_url(name: str) -> str:
    """The category's page; "" for a name the shop does not have."""
    found = _by_name().get(name)
    return reverse("shop:category", args=[found[1]]) if found else ""
