"""Bought together in the shop: the associations from the purchase events, the companions of a
product or a cart, and bundle promotions suggested from the strongest pairs.

The statistics are ``promotions.recommenders.together`` (lift with a significance filter); this
module reads the purchase events, stores each product's strongest companions as
``ItemAssociation`` rows (both directions) and answers from them with one indexed query.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import timedelta
from decimal import Decimal

import numpy as np
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from ..conf import app_settings
from ..recommenders.together import BoughtTogether, Pair, basket_matrix, evidence
from ..tracking.models import Event, EventType
from ..visitors.keys import person_id
from .models import ItemAssociation, Promotion


def fit(days: int | None = None) -> BoughtTogether | None:
    """The associations of the purchase events of the last ``days`` (``BOUGHT_TOGETHER_DAYS``)."""
    since = timezone.now() - timedelta(days=days or app_settings.BOUGHT_TOGETHER_DAYS)
    rows = (
        Event.objects.filter(event_type=EventType.PURCHASE, occurred_at__gte=since)
        .exclude(item_id="")
        .values_list("visitor_id", "user_id", "item_id", "occurred_at")
    )
    people, items, stamps = [], [], []
    for visitor_id, user_id, item_id, occurred_at in rows.iterator(chunk_size=10_000):
        people.append(person_id(visitor_id, user_id))
        items.append(item_id)
        stamps.append(occurred_at.timestamp())
    if not items:
        return None
    _, person_codes = np.unique(np.array(people, dtype=str), return_inverse=True)
    item_ids, item_codes = np.unique(np.array(items, dtype=str), return_inverse=True)
    baskets = basket_matrix(person_codes.ravel(), item_codes.ravel(), np.array(stamps), len(item_ids))
    return BoughtTogether(
        min_count=app_settings.BOUGHT_TOGETHER_MIN_BASKETS, max_p_value=app_settings.BOUGHT_TOGETHER_MAX_P_VALUE
    ).fit(item_ids, baskets)


def refresh(days: int | None = None) -> int:
    """Replace the stored associations with those of the recent purchases; returns the rows stored."""
    model = fit(days)
    pairs = model.pairs() if model is not None else []
    now = timezone.now()
    kept: dict[str, list[tuple[Pair, str]]] = defaultdict(list)
    for pair in pairs:  # strongest first: each product keeps its strongest companions
        for item, other in ((pair.a, pair.b), (pair.b, pair.a)):
            if len(kept[item]) < model.neighbours:
                kept[item].append((pair, other))
    rows = [
        ItemAssociation(
            item_id=item, other_id=other, together=pair.together, lift=pair.lift, p_value=pair.p_value, computed_at=now
        )
        for item, entries in kept.items()
        for pair, other in entries
    ]
    with transaction.atomic():
        ItemAssociation.objects.all().delete()
        ItemAssociation.objects.bulk_create(rows, batch_size=2000)
    return len(rows)


def companions(item_ids: Iterable[str], k: int, exclude: Iterable[str] = ()) -> list[tuple[str, float]]:
    """The products most often bought with ``item_ids`` (a product, or a cart's products): their
    evidence (shared baskets x ln(lift)) summed over them, those products themselves and
    ``exclude`` left out; ties by product id."""
    items = list(dict.fromkeys(str(i) for i in item_ids))
    if not items:
        return []
    blocked = set(items) | {str(i) for i in exclude}
    scores: dict[str, float] = defaultdict(float)
    rows = ItemAssociation.objects.filter(item_id__in=items).values_list("other_id", "together", "lift")
    for other, shared, lift in rows:
        if other not in blocked:
            scores[other] += float(evidence(shared, lift))
    return sorted(scores.items(), key=lambda entry: (-entry[1], entry[0]))[:k]


def suggest_bundles(n: int, percent: Decimal = Decimal(10)) -> list[Promotion]:
    """Draft bundle promotions for the ``n`` strongest pairs that no bundle covers yet."""
    pairs = ItemAssociation.objects.filter(item_id__lt=F("other_id"))
    strongest = sorted(pairs, key=lambda a: (-float(evidence(a.together, a.lift)), a.item_id, a.other_id))
    return bundles_from(strongest, percent, n)


def bundles_from(associations: Iterable[ItemAssociation], percent: Decimal, n: int | None = None) -> list[Promotion]:
    """A draft bundle promotion ("these two together, ``percent``% off") per pair, skipping pairs a
    bundle already covers; staff review, edit and activate them in the admin."""
    existing = {
        frozenset(p.target_values)
        for p in Promotion.objects.filter(kind__in=(Promotion.Kind.BUNDLE_PRICE, Promotion.Kind.BUNDLE_PERCENT))
    }
    created: list[Promotion] = []
    for association in associations:
        members = frozenset((association.item_id, association.other_id))
        if n is not None and len(created) >= n:
            break
        if members in existing:
            continue
        existing.add(members)
        first, second = sorted(members)
        created.append(
            Promotion.objects.create(
                name=_("Bundle: %(a)s + %(b)s") % {"a": first, "b": second},
                message=_("Buy these together: %(percent)s%% off") % {"percent": percent},
                kind=Promotion.Kind.BUNDLE_PERCENT,
                value=percent,
                target_kind=Promotion.TargetKind.PRODUCTS,
                target_values=[first, second],
                status=Promotion.Status.DRAFT,
            )
        )
    return created
