"""Every per-person cache entry the app writes, declared here and nowhere else.

An entry lives in Django's cache under ``promotions:visitor:<visitor id>:<name>`` (or
``promotions:user:<user id>:<name>``), built with ``privacy.visitor_cache_key`` /
``user_cache_key``. Export and erasure must find each one on any cache backend, including those
that cannot list keys (memcached, local memory), so each name is declared below with its
lifetime, and ``PromotionsConfig.ready()`` registers them all with ``privacy`` in every process:
an erasure run from a management command finds them although no serving module was imported.

A name may be a template: ``{day}`` stands for each day its lifetime can reach back to,
``{promotion}`` for each promotion's id, ``{slot}`` for each slot the database names and
``{limit}`` for 1 to ``MAX_LIMIT``. The modules that write an entry take its name and lifetime
from here, so the two cannot drift apart.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

from django.apps import apps

#: The largest ``limit`` a slot's cached answer is expanded to (template tags ask for a few).
MAX_LIMIT = 24
DAY = 24 * 3600


@dataclass(frozen=True)
class PersonCacheName:
    """One per-person cache entry: its name (or name template), how long it lives (seconds; None
    until evicted) and what it holds, for the privacy documentation."""

    name: str
    lifetime: int | None
    holds: str

    def names(self, today: date) -> Iterator[str]:
        """The concrete names this declaration stands for today."""
        if "{" not in self.name:
            yield self.name
            return
        fields = {
            "day": lambda: _days(today, self.lifetime),
            "promotion": _promotion_ids,
            "slot": _slots,
            "limit": lambda: [str(n) for n in range(1, MAX_LIMIT + 1)],
        }
        used = [field for field in fields if "{" + field + "}" in self.name]
        for values in itertools.product(*(fields[field]() for field in used)):
            yield self.name.format(**dict(zip(used, values, strict=True)))


def _days(today: date, lifetime: int | None) -> list[str]:
    # An entry written late on a day lives into the days after it.
    back = math.ceil((lifetime or DAY) / DAY)
    return [(today - timedelta(days=n)).isoformat() for n in range(back + 1)]


def _promotion_ids() -> list[str]:
    # Looked up by name: the offers models sit in a layer above this one.
    promotion = apps.get_model("promotions", "Promotion")
    return [str(pk) for pk in promotion.objects.values_list("pk", flat=True)]


def _slots() -> list[str]:
    slots = {"home"}  # the template tags' default slot
    slots.update(apps.get_model("promotions", "SlotConfig").objects.values_list("slot", flat=True))
    slots.update(apps.get_model("promotions", "SlotRule").objects.exclude(slot="*").values_list("slot", flat=True))
    for listed in apps.get_model("promotions", "Promotion").objects.values_list("slots", flat=True):
        slots.update(slot for slot in listed or () if isinstance(slot, str))
    return sorted(slots)


RECENT_ITEMS = PersonCacheName("recent_items", 30 * DAY, "the last 20 items the visitor touched, with times")
RECOMMENDATIONS = PersonCacheName(
    # Outlives one daily training, so a late or failed run leaves yesterday's lists in place.
    "recommendations",
    2 * DAY,
    "the top-N list precomputed after training (visitor and user keys)",
)
LIVE_RECOMMENDATIONS = PersonCacheName("live_recommendations", 60, "recommendations computed during a page view")
RETURNING = PersonCacheName(
    # Kept without expiry once true (a returning visitor never becomes new); "new" for 5 minutes.
    "returning",
    None,
    "whether the visitor came back after an earlier visit",
)
UPLIFT_HISTORY = PersonCacheName("uplift_history", 300, "the visitor's recent events scored by the uplift models")
UPLIFT_LOGGED = PersonCacheName(
    "uplift_logged:{day}:{promotion}", DAY, "that today's uplift holdout assignment was logged"
)
EXPOSURES = PersonCacheName(
    # Counts are per day; two days keep yesterday's readable around midnight.
    "exposures:{day}:promotion:{promotion}",
    2 * DAY,
    "how often a promotion was shown to the visitor that day (frequency caps)",
)
SHOWN = PersonCacheName("shown:{slot}:{limit}", 60, "the promotions a slot showed the visitor, for a minute")

#: Every declaration; ``PromotionsConfig.ready()`` registers these with ``privacy``.
DECLARED: tuple[PersonCacheName, ...] = (
    RECENT_ITEMS,
    RECOMMENDATIONS,
    LIVE_RECOMMENDATIONS,
    RETURNING,
    UPLIFT_HISTORY,
    UPLIFT_LOGGED,
    EXPOSURES,
    SHOWN,
)
