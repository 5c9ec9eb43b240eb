"""Login: a visitor's experiment assignments follow them into their account."""

from __future__ import annotations

from typing import Any

from .models import Assignment


def transfer_assignments(sender: Any, request, user, **kwargs: Any) -> None:
    """The visitor's variants become the user's, except where the user already has one.

    There the user's variant wins and the visitor's row stays, marked superseded, so the person
    is counted once. Connected after the tracking receiver that links the visitor to the user.
    """
    visitor_id = getattr(request, "visitor_id", None) if request is not None else None
    if not visitor_id:
        return
    user_unit = f"user:{user.pk}"
    taken = Assignment.objects.filter(unit_id=user_unit).values("experiment_id")
    rows = Assignment.objects.filter(unit_id=f"visitor:{visitor_id}", superseded=False)
    rows.filter(experiment_id__in=taken).update(superseded=True)
    rows.exclude(experiment_id__in=taken).update(unit_id=user_unit)
