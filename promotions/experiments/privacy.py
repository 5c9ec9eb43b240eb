"""A person's experiment assignments, for export and erasure (registered in ``PromotionsConfig.ready()``)."""

from __future__ import annotations

from django.db import models

from ..tracking.privacy import Person
from .models import Assignment


def person_assignments(person: Person) -> models.QuerySet:
    """A person's assignments: under their user unit and each of their visitor units."""
    units = [f"visitor:{visitor_id}" for visitor_id in person.visitor_ids]
    if person.user_id is not None:
        units.append(f"user:{person.user_id}")
    return Assignment.objects.filter(unit_id__in=units)


def export_assignments(person: Person) -> list[dict]:
    return [
        {
            "experiment": row.experiment.key,
            "unit_id": row.unit_id,
            "variant": row.variant.key,
            "first_exposed_at": row.first_exposed_at.isoformat(),
            "forced": row.forced,
            "superseded": row.superseded,
        }
        for row in person_assignments(person).select_related("experiment", "variant").order_by("pk")
    ]


def erase_assignments(person: Person) -> int:
    return person_assignments(person).delete()[0]
