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
from ..tracking.models import Event, EventType, Visitor
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


def weighting(signals: bool = False) -> Weighting:
    """Event weights from ``PROMOTIONS["TRAINING_EVENT_WEIGHTS"]``; other event types are dropped.
    ``signals``: with the rating values and dwell times as configured (``TRAINING_RATING_POWER``,
    ``TRAINING_DWELL_SECONDS``: dwell events then weigh as views, unless given a weight of their own)."""
    weights = dict(app_settings.TRAINING_EVENT_WEIGHTS)
    if not signals:
        return Weighting(event_weights=weights, default_event_weight=0.0)
    dwell = app_settings.TRAINING_DWELL_SECONDS
    if dwell is not None:
        weights.setdefault(EventType.DWELL.value, weights.get(EventType.VIEW.value, 1.0))
    return Weighting(
        event_weights=weights,
        default_event_weight=0.0,
        rating_power=float(app_settings.TRAINING_RATING_POWER),
        dwell_seconds=None if dwell is None else float(dwell),
    )


def signals_configured() -> bool:
    """Whether the configured weighting uses rating values or dwell times (else it is the neutral one)."""
    return weighting(signals=True) != weighting()


def interaction_events(since: datetime | None = None, signals: bool = False) -> Iterator[tuple]:
    """(visitor id, user id, item id, time, event type, quantity) of the interaction events, oldest
    first; ``signals`` adds each one's rating and dwell seconds, and the dwell events when configured."""
    types = [name for name, weight in weighting(signals).event_weights.items() if weight > 0]
    query = Q(event_type__in=types) & ~Q(item_id="")
    if since is not None:
        query &= Q(occurred_at__gte=since)
    columns = ["visitor_id", "user_id", "item_id", "occurred_at", "event_type", "quantity"]
    rows = (
        Event.objects.filter(query)
        .order_by("occurred_at", "pk")
        .values_list(*columns, *(("rating", "dwell_seconds") if signals else ()))
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
    so the whole table never exists as Python objects: about 25 bytes a row in the end. With
    rating values or dwell times configured (``signals_configured``), the log carries them too.
    """
    signals = signals_configured()
    links = visitor_links()
    people: dict[str, int] = {}
    items: dict[str, int] = {}
    kinds: dict[str, int] = {}
    chunks: list[tuple[np.ndarray, ...]] = []
    events = interaction_events(signals=signals)
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
                *(
                    np.fromiter((np.nan if row[n] is None else float(row[n]) for row in chunk), np.float64, len(chunk))
                    for n in ((6, 7) if signals else ())
                ),
            )
        )
    width = 7 if signals else 5
    columns = [np.concatenate(parts) for parts in zip(*chunks, strict=True)] if chunks else [np.zeros(0)] * width
    chunks.clear()
    return InteractionLog.from_codes(
        (np.array(list(people), dtype=str), columns[0].astype(np.int32, copy=False)),
        (np.array(list(items), dtype=str), columns[1].astype(np.int32, copy=False)),
        columns[2].astype(np.float64, copy=False),
        (np.array(list(kinds), dtype=str), columns[3].astype(np.int16, copy=False)),
        columns[4].astype(np.float64, copy=False),
        ratings=columns[5].astype(np.float64, copy=False) if signals else None,
        dwell=columns[6].astype(np.float64, copy=False) if signals else None,
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
