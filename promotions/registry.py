"""The app's registries, declared here in one place and filled in ``PromotionsConfig.ready()``.

Nothing registers itself on import, so what a process knows does not depend on what it happened
to import (a management command imports no serving module). Declared elsewhere, also filled in
``ready()``: per-person cache names with their lifetimes (``tracking.personcache.DECLARED``),
sections of a person's data (``apps.register_privacy``). Event types are one enum,
``tracking.models.EventType``; a shop adds its own with ``register_event_type()`` from its
``ready()``. Dotted-path settings are resolved by ``conf.app_settings.imported()`` (``conf.IMPORT_STRINGS``).

Entries that live above this layer are named by dotted path: ``ready()`` imports them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .tracking import personcache

#: Per-person cache entries every page reads in its one prefetch (``visitors.prefetch.STANDARD_NAMES``).
PREFETCHED: tuple[str, ...] = (
    personcache.RECENT_ITEMS.name,
    personcache.RETURNING.name,
    personcache.LIVE_RECOMMENDATIONS.name,
    personcache.RECOMMENDATIONS.name,
)

#: Functions naming the further per-visitor entries a page may read (``visitors.prefetch.NAME_PROVIDERS``).
NAME_PROVIDERS: tuple[str, ...] = (
    "promotions.offers.service.capped_names",
    "promotions.uplift.serving.randomized_names",
    "promotions.serving.promotions.shown_names",
)

#: Filters that take eligible promotions back from a visitor (``offers.service.WITHHOLDERS``).
WITHHOLDERS: tuple[str, ...] = ("promotions.uplift.serving.withhold",)

#: Every per-process cache, by the function that empties it.
PROCESS_CACHES: tuple[str, ...] = (
    "promotions.conf.forget_settings",
    "promotions.cards.forget_cards",
    "promotions.tracking.buffer.forget_products",
    "promotions.offers.service.forget_live_promotions",
    "promotions.training.versions.forget_active",
    "promotions.serving.decide.forget_slot_configs",
    "promotions.serving.merchandising.forget_rules",
    "promotions.serving.promotions.forget_stats",
    "promotions.serving.recommendations.forget_trending",
    "promotions.uplift.serving.forget_uplift_models",
    "promotions.templatetags.promotions.forget_fragments",
    "promotions.api.keys.forget_key",
    "promotions.api.person.forget_users",
)

_forgetters: list[Callable[[], Any]] = []


def set_forgetters(forgetters: list[Callable[[], Any]]) -> None:
    """Called by ``ready()`` with ``PROCESS_CACHES`` imported."""
    _forgetters[:] = forgetters


def forget_all(*args: Any, **kwargs: Any) -> None:
    """Empty every process cache: the next request reads settings, products, promotions, rules and
    models afresh (for tests, and connected to ``setting_changed``)."""
    for forget in _forgetters:
        forget()


def forget_on_setting_change(*, setting: str, **kwargs: Any) -> None:
    if setting in {"PROMOTIONS", "PROMOTIONS_PRODUCT_MODEL"}:
        forget_all()
