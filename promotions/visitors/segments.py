"""Who a visitor is, for targeting, eligibility and per-segment rates: cheap, per request.

- device class: "mobile" (phones and tablets) or "desktop", from the user agent;
- new or returning: returning once the person has an event older than ``RETURNING_AFTER`` (an
  earlier visit) or is a signed-in user whose account is older than that; remembered in the
  cache once true, since a returning visitor never becomes new again (a "new" answer for five
  minutes);
- signed in.
"""

from __future__ import annotations

import re
from datetime import timedelta

from django.http import HttpRequest
from django.utils import timezone

from ..tracking.models import Event
from ..tracking.personcache import RETURNING
from .prefetch import store_value, visitor_values

MOBILE_AGENT = re.compile(r"mobi|android|iphone|ipad|tablet", re.IGNORECASE)
#: An event this much older than now belongs to an earlier visit (the usual 30-minute session).
RETURNING_AFTER = timedelta(minutes=30)
RETURNING_CACHE_NAME = RETURNING.name
NEW_RECHECK_SECONDS = 300


def device_class(request: HttpRequest) -> str:
    return "mobile" if MOBILE_AGENT.search(request.headers.get("User-Agent", "")) else "desktop"


def signed_in(request: HttpRequest) -> bool:
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated)


def is_returning(request: HttpRequest) -> bool:
    """Whether the person visited before this visit; answered once per request."""
    memo = request.__dict__
    if "_promotions_returning" not in memo:
        memo["_promotions_returning"] = _returning(request)
    return memo["_promotions_returning"]


def _returning(request: HttpRequest) -> bool:
    before = timezone.now() - RETURNING_AFTER
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and user.date_joined < before:
        return True
    state = getattr(request, "promotions", None)
    visitor_id = state.visitor_id if state is not None else None
    if not visitor_id:
        return False
    issued_at = getattr(state, "issued_at", None)
    if issued_at is not None and issued_at > before.timestamp():
        return False  # the id is younger than a visit: none of its events can be older
    known = visitor_values(request, [RETURNING_CACHE_NAME])[RETURNING_CACHE_NAME]
    if known is not None:
        return bool(known)
    returning = Event.objects.filter(visitor_id=visitor_id, occurred_at__lt=before).exists()
    # Returning is for good; "new" is asked again after a while, when the visit may be old enough.
    store_value(request, RETURNING_CACHE_NAME, 1 if returning else 0, None if returning else NEW_RECHECK_SECONDS)
    return returning
