"""The shop's signed-in user, for the beacon endpoint, without DRF's CSRF enforcement."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db import DatabaseError
from rest_framework.authentication import BaseAuthentication
from rest_framework.request import Request


class ShopSessionUser(BaseAuthentication):
    """The user Django's AuthenticationMiddleware found for the session, signed in or anonymous.

    DRF's SessionAuthentication would enforce CSRF, which sendBeacon cannot send; this only reads
    what the middleware established. It always answers, so a refused request gets the
    permission's message rather than "credentials were not provided".
    """

    def authenticate(self, request: Request) -> tuple[Any, None] | None:
        user = getattr(request._request, "user", None)
        if user is None:
            return None
        try:
            user.is_authenticated  # noqa: B018 (reads the session: a database query)
        except DatabaseError:
            # The database is down: the visitor's events are still taken (they wait in the Redis
            # buffer), without the account; the visitor id links them to it later.
            return AnonymousUser(), None
        return user, None
