"""Who calls: the shop's signed-in user, for the beacon endpoint, without DRF's CSRF enforcement;
or, for the server-to-server API, an API key."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db import DatabaseError
from django.utils.translation import gettext_lazy as _
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request

from .keys import ApiKey, find_key, touch


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


class ApiKeyAuthentication(BaseAuthentication):
    """``Authorization: Bearer pk_<prefix>.<secret>``: ``request.auth`` is the ``ApiKey``.

    No header: not authenticated (the permission then answers 401). A header with an unknown,
    wrong or revoked key: 401, before anything is read or stored.
    """

    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[Any, ApiKey] | None:
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header:
            return None
        keyword, _space, text = header.partition(" ")
        if keyword.lower() != self.keyword.lower() or not text.strip():
            raise AuthenticationFailed(_("Send the key as 'Authorization: Bearer <key>'."))
        key = find_key(text.strip())
        if key is None:
            raise AuthenticationFailed(_("Unknown or revoked API key."))
        touch(key)
        return AnonymousUser(), key

    def authenticate_header(self, request: Request) -> str:
        return f'{self.keyword} realm="promotions"'
