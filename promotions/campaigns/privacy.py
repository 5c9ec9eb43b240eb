"""A person's campaign rows (who got or was held out of which campaign, and an unsubscribe), for
export and erasure (registered in ``PromotionsConfig.ready()``). Their clicks are events, and go
with the events."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from ..tracking.privacy import Person
from ..visitors.keys import user_person_id
from .models import Recipient, Unsubscribe


def _matching(person: Person) -> Q:
    keys = list(person.visitor_ids)
    found = Q(customer_key__in=keys)
    if person.user_id is not None:
        found |= Q(customer_key=user_person_id(person.user_id)) | Q(user_id=person.user_id)
    return found


def person_rows(person: Person) -> tuple[models.QuerySet, models.QuerySet]:
    return Recipient.objects.filter(_matching(person)), Unsubscribe.objects.filter(_matching(person))


def export_campaign_rows(person: Person) -> dict:
    recipients, unsubscribes = person_rows(person)
    return {
        "recipients": [
            {
                "campaign": row.campaign.name,
                "customer": row.customer_key,
                "held_out": row.holdout,
                "exported_at": row.exported_at.isoformat(),
            }
            for row in recipients.select_related("campaign").order_by("pk")
        ],
        "unsubscribed": [
            {"customer": row.customer_key, "at": row.created_at.isoformat()} for row in unsubscribes.order_by("pk")
        ],
    }


def erase_campaign_rows(person: Person) -> int:
    recipients, unsubscribes = person_rows(person)
    return recipients.delete()[0] + unsubscribes.delete()[0]
