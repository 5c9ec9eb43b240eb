"""Who a campaign is for: the customers of its segment, from the purchases in the event log.

A customer is known as the models know them (``visitors.keys.person_id``): ``u:<user id>`` for a
shop user, whichever of their visitor ids (cookies, ``ext:<customer id>``) the purchase was
stored under, else the visitor id itself (an imported customer without an account). Customers
who unsubscribed and inactive users are left out; an erased person has no purchases left, so
no segment finds them.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.db.models import Max
from django.utils.translation import gettext as _

from ..cards import cards
from ..tracking.models import Event, EventType, Visitor
from ..visitors.keys import person_id
from .models import Campaign, Unsubscribe


class SegmentError(ValueError):
    """A segment that cannot be computed as asked (one line for the operator)."""


@dataclass
class Customer:
    key: str
    user_id: int | None = None
    email: str = ""
    #: Their visitor ids: the linked ones, the earliest cookie first (for a user without linked
    #: visitors, those their purchases were stored under).
    visitor_ids: list[str] = field(default_factory=list)
    last_purchase: datetime | None = None


def check_segment(segment: str, days: int, category: str) -> None:
    """Raises SegmentError for an unknown segment, a bad N or a category segment without a category."""
    if segment not in Campaign.Segment.values:
        raise SegmentError(
            _("Unknown segment %(segment)r; use one of: %(choices)s.")
            % {"segment": segment, "choices": ", ".join(Campaign.Segment.values)}
        )
    if days < 1:
        raise SegmentError(_("The number of days must be at least 1, not %(days)s.") % {"days": days})
    if segment == Campaign.Segment.CATEGORY and not category.strip():
        raise SegmentError(_("The category segment needs a category."))


def _users_of_visitors() -> dict[str, int]:
    return dict(Visitor.objects.filter(user__isnull=False).values_list("key", "user_id"))


def segment_customers(campaign: Campaign, now: datetime) -> list[Customer]:
    """The campaign's customers at ``now``, ordered by key (so an export is reproducible)."""
    check_segment(campaign.segment, campaign.days, campaign.category)
    since = now - timedelta(days=campaign.days)
    purchases = Event.objects.filter(event_type=EventType.PURCHASE, occurred_at__lt=now)
    if campaign.segment == Campaign.Segment.CATEGORY:
        purchases = purchases.filter(occurred_at__gte=since)
        bought = purchases.exclude(item_id="").values_list("item_id", flat=True).distinct()
        wanted = campaign.category.strip().casefold()
        in_category = [i for i, card in cards(bought).items() if (card.category or "").casefold() == wanted]
        purchases = purchases.filter(item_id__in=in_category)
    owners = _users_of_visitors()
    customers: dict[str, Customer] = {}
    rows = purchases.values("visitor_id", "user_id").annotate(last=Max("occurred_at")).order_by()
    for row in rows:
        user_id = row["user_id"] if row["user_id"] is not None else owners.get(row["visitor_id"])
        key = person_id(row["visitor_id"], user_id)
        customer = customers.setdefault(key, Customer(key, user_id))
        if row["visitor_id"] not in customer.visitor_ids:
            customer.visitor_ids.append(row["visitor_id"])
        if customer.last_purchase is None or row["last"] > customer.last_purchase:
            customer.last_purchase = row["last"]
    if campaign.segment == Campaign.Segment.LAPSED:
        customers = {k: c for k, c in customers.items() if c.last_purchase < since}
    elif campaign.segment == Campaign.Segment.RECENT:
        customers = {k: c for k, c in customers.items() if c.last_purchase >= since}
    _leave_out_unsubscribed(customers)
    _add_identities(customers)
    return [customers[key] for key in sorted(customers)]


def _leave_out_unsubscribed(customers: dict[str, Customer]) -> None:
    gone = set(Unsubscribe.objects.filter(customer_key__in=list(customers)).values_list("customer_key", flat=True))
    user_ids = [c.user_id for c in customers.values() if c.user_id is not None]
    gone_users = set(Unsubscribe.objects.filter(user_id__in=user_ids).values_list("user_id", flat=True))
    inactive = set(get_user_model().objects.filter(pk__in=user_ids, is_active=False).values_list("pk", flat=True))
    for key in [k for k, c in customers.items() if k in gone or c.user_id in gone_users or c.user_id in inactive]:
        del customers[key]


def _add_identities(customers: dict[str, Customer]) -> None:
    """Each customer's e-mail (a user's) and visitor ids, the earliest cookie first (the site's anchor)."""
    by_user = {c.user_id: c for c in customers.values() if c.user_id is not None}
    user_model = get_user_model()
    email_field = user_model.get_email_field_name()
    for pk, email in user_model.objects.filter(pk__in=list(by_user)).values_list("pk", email_field):
        by_user[pk].email = email or ""
    found: dict[int, list[str]] = defaultdict(list)
    for user_id, key in (
        Visitor.objects.filter(user_id__in=list(by_user))
        .order_by("kind", "created_at", "pk")  # "cookie" sorts before "external"
        .values_list("user_id", "key")
    ):
        found[user_id].append(key)
    for customer in customers.values():
        if customer.user_id is None:
            customer.visitor_ids = [customer.key]
        elif found.get(customer.user_id):  # else the ids their purchases were stored under
            customer.visitor_ids = found[customer.user_id]
