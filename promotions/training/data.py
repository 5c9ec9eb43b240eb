"""The training data from the Django side: interaction rows from the event log and the item catalogue.

A person is the linked user (``u:<id>``) when the event carries a user or its visitor id is linked
to one, else the visitor id, so one customer's devices and imported history count as one person.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from itertools import islice

import numpy as np
from django.db.models import Q

from ..conf import app_settings
from ..evaluation import InteractionLog
from ..products import get_adapter
from ..recommenders import ItemInfo, Weighting
from ..tracking.models import Event, Visitor
from ..visitors import keys

#: Rows fetched per database round trip while streaming the event log.
CHUNK_SIZE = 5000

Row = tuple[str, str, float, str, float]


def person_id(visitor_id: str, user_id: int | None, links: dict[str, int]) -> str:
    """The id a person trains under: ``u:<user id>`` when known, else the visitor id."""
    return keys.person_id(visitor_id, user_id if user_id is not None else links.get(visitor_id))


def visitor_links() -> dict[str, int]:
    """Visitor id -> user id of every linked visitor."""
    return dict(Visitor.objects.filter(user__isnull=False).values_list("key", "user_id").iterator(CHUNK_SIZE))


def weighting() -> Weighting:
    """Event weights from ``PROMOTIONS["TRAINING_EVENT_WEIGHTS"]``; other event types are dropped."""
    return Weighting(event_weights=dict(app_settings.TRAINING_EVENT_WEIGHTS), default_event_weight=0.0)


def interaction_events(since: datetime | None = None) -> Iterator[tuple[str, int | None, str, object, str, int | None]]:
    """(visitor id, user id, item id, time, event type, quantity) of the interaction events, oldest first."""
    types = [name for name, weight in app_settings.TRAINING_EVENT_WEIGHTS.items() if weight > 0]
    query = Q(event_type__in=types) & ~Q(item_id="")
    if since is not None:
        query &= Q(occurred_at__gte=since)
    rows = (
        Event.objects.filter(query)
        .order_by("occurred_at", "pk")
        .values_list("visitor_id", "user_id", "item_id", "occurred_at", "event_type", "quantity")
    )
    return rows.iterator(CHUNK_SIZE)


def interaction_rows() -> Iterator[Row]:
    """(person id, item id, epoch seconds, event type, quantity) rows, the layout of ``Interactions.from_rows``."""
    links = visitor_links()
    for visitor_id, user_id, item_id, occurred_at, event_type, quantity in interaction_events():
        yield (
            person_id(visitor_id, user_id, links),
            item_id,
            occurred_at.timestamp(),
            event_type,
            np.nan if quantity is None else float(quantity),
        )


def interaction_log() -> InteractionLog:
    """The interaction rows as the evaluation protocol's log, ready to split or to fit on.

    Read in chunks of ``CHUNK_SIZE`` rows, each turned into integer codes at once (people, items
    and event types are numbered in dictionaries that grow with the distinct ids, not the rows),
    so the whole table never exists as Python objects: about 25 bytes a row in the end.
    """
    links = visitor_links()
    people: dict[str, int] = {}
    items: dict[str, int] = {}
    kinds: dict[str, int] = {}
    chunks: list[tuple[np.ndarray, ...]] = []
    events = interaction_events()
    while chunk := list(islice(events, CHUNK_SIZE)):
        chunks.append(
            (
                np.fromiter(
                    (people.setdefault(person_id(v, u, links), len(people)) for v, u, *_ in chunk), np.int32, len(chunk)
                ),
                np.fromiter((items.setdefault(row[2], len(items)) for row in chunk), np.int32, len(chunk)),
                np.fromiter((row[3].timestamp() for row in chunk), np.float64, len(chunk)),
                np.fromiter((kinds.setdefault(row[4], len(kinds)) for row in chunk), np.int16, len(chunk)),
                np.fromiter((np.nan if row[5] is None else float(row[5]) for row in chunk), np.float64, len(chunk)),
            )
        )
    columns = [np.concatenate(parts) for parts in zip(*chunks, strict=True)] if chunks else [np.zeros(0)] * 5
    chunks.clear()
    return InteractionLog.from_codes(
        (np.array(list(people), dtype=str), columns[0].astype(np.int32, copy=False)),
        (np.array(list(items), dtype=str), columns[1].astype(np.int32, copy=False)),
        columns[2].astype(np.float64, copy=False),
        (np.array(list(kinds), dtype=str), columns[3].astype(np.int16, copy=False)),
        columns[4].astype(np.float64, copy=False),
    )


def catalogue() -> list[ItemInfo]:
    """The shop's products as the models see them (titles, categories, prices for content features)."""
    adapter = get_adapter()
    items = []
    for product in adapter.get_queryset().iterator(CHUNK_SIZE):
        info = adapter.info(product)
        items.append(
            ItemInfo(
                item_id=info.id,
                title=info.title,
                description=info.text,
                category=info.category,
                brand=info.brand,
                price=float(info.price),
            )
        )
    return items
