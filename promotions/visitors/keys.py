"""The names of one person: the id the models know them by, and their per-person cache keys.

Built here and nowhere else, so training, serving, export and erasure agree on them.
"""

from __future__ import annotations

VISITOR_CACHE_PREFIX = "promotions:visitor:{visitor_id}:"
USER_CACHE_PREFIX = "promotions:user:{user_id}:"


def user_person_id(user_id: int | str) -> str:
    """The id a signed-in person trains and is served under: ``u:<user id>``."""
    return f"u:{user_id}"


def person_id(visitor_id: str, user_id: int | str | None) -> str:
    """``u:<user id>`` when the user is known, else the visitor id."""
    return visitor_id if user_id is None else user_person_id(user_id)


def visitor_cache_key(visitor_id: str, name: str) -> str:
    return VISITOR_CACHE_PREFIX.format(visitor_id=visitor_id) + name


def user_cache_key(user_id: int, name: str) -> str:
    return USER_CACHE_PREFIX.format(user_id=user_id) + name
