"""The global holdout: the people who see non-personalized promotions, so that lift is measured.

Membership is a deterministic hash (``experiments.stats.assignment.hash_point``) of the person's anchor
id against ``HOLDOUT_SHARE``, so no table is read or written to know it. The anchor is the visitor
id for an anonymous visitor and, for a signed-in user, the id of the first visitor ever linked to
the account: a visitor who signs up (or signs in for the first time) keeps their membership, and a
person using several devices has one. As with experiment assignments, where an account already
has an earlier visitor, the account's membership wins.
"""

from __future__ import annotations

from django.http import HttpRequest

from ..conf import app_settings
from ..experiments.stats.assignment import hash_point
from ..tracking.models import Visitor

PURPOSE = "holdout"


def anchor_id(request: HttpRequest) -> str | None:
    """The id the holdout hashes for this request's person; None when the person is unknown."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        first = (
            Visitor.objects.filter(user_id=user.pk, kind=Visitor.Kind.COOKIE)
            .order_by("created_at", "pk")
            .values_list("key", flat=True)
            .first()
        )
        return first or f"user:{user.pk}"
    state = getattr(request, "promotions", None)
    return state.visitor_id if state is not None and state.visitor_id else None


def is_held_out(anchor: str) -> bool:
    """Whether the person with this anchor id is in the holdout (pure; no database)."""
    share = float(app_settings.HOLDOUT_SHARE)
    return share > 0 and hash_point(app_settings.HOLDOUT_SALT, PURPOSE, anchor) < share


def in_holdout(request: HttpRequest) -> bool:
    """Whether this request's person is in the global holdout; answered once per request."""
    memo = request.__dict__
    if "_promotions_holdout" not in memo:
        anchor = anchor_id(request)
        memo["_promotions_holdout"] = anchor is not None and is_held_out(anchor)
    return memo["_promotions_holdout"]
