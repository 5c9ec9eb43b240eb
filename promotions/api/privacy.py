"""The API keys a staff member created, for export and erasure (registered in
``PromotionsConfig.ready()``): the export lists them, the erasure keeps the keys (shops' servers
use them, events name them) but forgets who created them."""

from __future__ import annotations

from ..tracking.privacy import Person
from .keys import ApiKey


def export_api_keys(person: Person) -> list[dict]:
    if person.user_id is None:
        return []
    keys = ApiKey.objects.filter(created_by_id=person.user_id).order_by("pk")
    return [{"name": key.name, "prefix": key.prefix, "created_at": key.created_at.isoformat()} for key in keys]


def erase_api_keys(person: Person) -> int:
    if person.user_id is None:
        return 0
    return ApiKey.objects.filter(created_by_id=person.user_id).update(created_by=None)
