"""Top-N lists for recently active visitors, precomputed into Django's cache after each training.

Every web process reads them from the shared cache under the person's keys
(``privacy.visitor_cache_key(visitor_id, "recommendations")`` and ``user_cache_key``), which the
privacy registry erases with the rest of a person's data. Each list is
``{"version": <model version id>, "at": <unix time>, "items": [{"item_id", "score", "reason": [kind, item
id, category]}, ...]}`` (the reason as data, worded when shown).
"""

from __future__ import annotations

import time
from collections import defaultdict
from datetime import timedelta
from typing import Any

from django.core.cache import cache
from django.utils import timezone

from ..conf import app_settings
from ..diversify import diversify, pool_size
from ..recommenders import Recommender
from ..tracking.personcache import RECOMMENDATIONS
from ..visitors.keys import user_cache_key, visitor_cache_key
from .data import interaction_events, person_id, visitor_links
from .models import RECOMMENDATIONS_CACHE_NAME

#: Lists outlive one daily training, so a late or failed run leaves yesterday's lists in place.
CACHE_SECONDS = RECOMMENDATIONS.lifetime
#: Recent items per visitor folded in, as serving does for the current session.
HISTORY_LENGTH = 20
#: Cache entries written per round trip.
WRITE_BATCH = 500


def precompute_recommendations(model: Recommender, version_id: int) -> int:
    """Cache the top-N list of every visitor active in the last ``PRECOMPUTE_ACTIVE_DAYS``; returns
    the number of lists written."""
    since = timezone.now() - timedelta(days=app_settings.PRECOMPUTE_ACTIVE_DAYS)
    links = visitor_links()
    recent: dict[str, list[str]] = defaultdict(list)
    users: dict[str, int | None] = {}
    for visitor_id, user_id, item_id, _occurred_at, _event, _quantity in interaction_events(since):
        recent[visitor_id].append(item_id)
        users[visitor_id] = user_id if user_id is not None else users.get(visitor_id) or links.get(visitor_id)
    entries: dict[str, Any] = {}
    written = 0
    # Serving uses a list only if it is newer than the visitor's latest recent item.
    computed_at = time.time()
    for visitor_id, items in recent.items():
        user_id = users[visitor_id]
        recommendations = model.recommend(
            user_id=person_id(visitor_id, user_id, links),
            history=items[-HISTORY_LENGTH:],
            k=pool_size(app_settings.PRECOMPUTE_TOP_N),
        )
        rows = diversify(
            [(r.item_id, r.score, r.reason) for r in recommendations],
            app_settings.PRECOMPUTE_TOP_N,
        )
        value = {
            "version": version_id,
            "at": computed_at,
            "items": [
                {"item_id": item_id, "score": score, "reason": reason.as_list()}
                for item_id, score, reason in rows
            ],
        }
        entries[visitor_cache_key(visitor_id, RECOMMENDATIONS_CACHE_NAME)] = value
        if user_id is not None:
            entries[user_cache_key(user_id, RECOMMENDATIONS_CACHE_NAME)] = value
        written += 1
        if len(entries) >= WRITE_BATCH:
            cache.set_many(entries, CACHE_SECONDS)
            entries = {}
    cache.set_many(entries, CACHE_SECONDS)
    return written
