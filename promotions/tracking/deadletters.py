"""Dead-lettered events: how many wait, and retrying them once what broke them is repaired."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db.models import Count, F, Min

from . import buffer
from .limits import InvalidEvent, normalize_event
from .models import DeadLetterEvent


def summary() -> dict[str, Any]:
    """``{"count": n, "oldest": datetime or None}`` of the dead letters waiting."""
    return DeadLetterEvent.objects.aggregate(count=Count("pk"), oldest=Min("created_at"))  # one query


def repaired_row(payload: str) -> list:
    """The payload as a row within the capture limits: text cleaned and cut, out-of-range numbers
    dropped, the context bounded. Raises ValueError when no event can be made of it."""
    row = json.loads(payload)
    if not isinstance(row, list) or len(row) != len(buffer.COLUMNS):
        raise ValueError(f"not a row of {len(buffer.COLUMNS)} columns")
    event = dict(zip(buffer.COLUMNS, row, strict=True))
    try:
        context = json.loads(event["context"]) if isinstance(event["context"], str) else event["context"]
    except ValueError:
        context = {}
    event["context"] = context if isinstance(context, dict) else {}
    if not isinstance(event["occurred_at"], str):
        raise ValueError("occurred_at is not a time")
    event["occurred_at"] = datetime.fromisoformat(event["occurred_at"])
    try:
        return buffer.to_row(normalize_event(event))
    except InvalidEvent as exc:
        raise ValueError(str(exc)) from None


def retry(letters: Iterable[DeadLetterEvent]) -> tuple[int, int]:
    """Repair and store each dead letter; returns (stored, still dead). A stored one is deleted,
    one that fails again keeps its place with the new reason and one more attempt."""
    stored = failed = 0
    for letter in letters:
        try:
            row = repaired_row(letter.payload)
            entry = buffer.Entry(letter.source_id, row, letter.payload, buffer.row_problem(row, buffer.COLUMNS))
        except ValueError as exc:  # json's errors included
            entry = buffer.Entry(letter.source_id, None, letter.payload, f"cannot be repaired: {exc}")
        if entry.problem is None:
            done, refused = buffer._insert_isolating([entry])
            if done:
                letter.delete()
                stored += 1
                continue
            entry = refused[0]
        DeadLetterEvent.objects.filter(pk=letter.pk).update(
            reason=buffer.clean_text(entry.problem or "", 300), attempts=F("attempts") + 1
        )
        failed += 1
    return stored, failed
