"""Staff merchandising rules applied to every list a slot shows: bans out, pins first.

Rules (``SlotRule``) are read once per ``RULES_SECONDS`` per process, and at once after a rule is
saved in this process. A ban or pin on slot ``"*"`` holds in every slot.
"""

from __future__ import annotations

import time
from typing import Any

from ..cards import cards
from ..offers.models import SlotRule
from ..recommenders import Reason
from .picks import Pick

RULES_SECONDS = 10.0
#: The reason of a product staff pinned to a slot.
PINNED = Reason("featured")
_rules: tuple[float, list[SlotRule]] | None = None


def forget_rules(*args: Any, **kwargs: Any) -> None:
    global _rules
    _rules = None


def _current() -> tuple[float, list[SlotRule]]:
    global _rules
    if _rules is None or time.monotonic() - _rules[0] > RULES_SECONDS:
        _rules = (time.monotonic(), list(SlotRule.objects.all()))
    return _rules


def rules_for(slot: str) -> list[SlotRule]:
    return [rule for rule in _current()[1] if rule.slot in ("*", slot)]


def rules_stamp() -> float:
    """When the rules in use were read: lists filtered by them are stale once this changes."""
    return _current()[0]


def is_banned(card: Any, rules: list[SlotRule]) -> bool:
    for rule in rules:
        if rule.action != SlotRule.Action.BAN:
            continue
        if (rule.scope == SlotRule.Scope.PRODUCT and rule.value == card.id) or (
            rule.scope == SlotRule.Scope.CATEGORY and rule.value == card.category
        ):
            return True
    return False


def apply_slot_rules(picks: list[Pick], slot: str, k: int) -> list[Pick]:
    """Remove banned products, put pinned ones first (pinned categories' products next), keep k."""
    rules = rules_for(slot)
    if not rules:
        return picks[:k]
    kept = [pick for pick in picks if not is_banned(pick.card, rules)]
    pinned_ids = [r.value for r in rules if r.action == SlotRule.Action.PIN and r.scope == SlotRule.Scope.PRODUCT]
    pinned_categories = {
        r.value for r in rules if r.action == SlotRule.Action.PIN and r.scope == SlotRule.Scope.CATEGORY
    }
    found = cards(pinned_ids)
    first = [
        Pick(found[item_id], 0.0, PINNED, source="pinned")
        for item_id in pinned_ids
        if item_id in found and found[item_id].available and not is_banned(found[item_id], rules)
    ]
    first_ids = {pick.card.id for pick in first}
    rest = [pick for pick in kept if pick.card.id not in first_ids]
    rest.sort(key=lambda pick: pick.card.category not in pinned_categories)  # stable: keeps the model's order
    return (first + rest)[:k]
