"""A person's redemptions, for export and erasure (registered in ``PromotionsConfig.ready()``).

A redemption is also the shop's record of a discount given (budgets, usage limits, reports), so
erasure keeps the row and removes who it was: the visitor id and the user. The order itself, with
the customer's details, belongs to the shop and is kept or deleted with the shop's own tools.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from ..tracking.privacy import Person
from .budget import customer_hash
from .models import Redemption

#: What erasure blanks on each of their rows: every field of ``Redemption`` that names a person
#: (the hashes are what per-customer limits match an e-mail address or a session by).
PERSON_FIELDS = {"visitor_id": "", "user": None, "email_hash": "", "session_hash": ""}


def person_redemptions(person: Person) -> QuerySet:
    """Their redemptions: by visitor id, user, or the user's e-mail address (as checkout hashes it)."""
    matches = Q(visitor_id__in=person.visitor_ids) if person.visitor_ids else Q(pk__in=[])
    if person.user is not None:
        matches |= Q(user_id=person.user_id)
        email = getattr(person.user, person.user.get_email_field_name(), "")
        if email:
            matches |= Q(email_hash=customer_hash(email))
    return Redemption.objects.filter(matches)


def export_redemptions(person: Person) -> list[dict[str, Any]]:
    return [
        {
            "promotion": row.promotion.name,
            "code": row.code.code if row.code else "",
            "order_ref": row.order_ref,
            "visitor_id": row.visitor_id,
            "user_id": row.user_id,
            "email_hash": row.email_hash,
            "session_hash": row.session_hash,
            "discount": str(row.discount),
            "order_total": str(row.order_total),
            "redeemed_at": row.redeemed_at.isoformat(),
            "refunded_at": row.refunded_at.isoformat() if row.refunded_at else None,
        }
        for row in person_redemptions(person).select_related("promotion", "code").order_by("pk")
    ]


def erase_redemptions(person: Person) -> int:
    """Anonymise their redemptions (the discounts given still count; a once-per-customer limit no
    longer knows them); returns the rows changed."""
    return person_redemptions(person).update(**PERSON_FIELDS)
