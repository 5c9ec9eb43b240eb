"""Who may post beacon events: the shop's own pages, for a tracked visitor holding a signed cookie.

The endpoint cannot use CSRF tokens (``navigator.sendBeacon`` sends no custom header), so these
checks, with throttling and the size limits, are its defence against forged and foreign posts.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.http.request import validate_host
from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.views import APIView

from ..visitors.identity import read_visitor_id


class TrackedVisitor(BasePermission):
    """A visitor who may be tracked (no DNT or GPC, consent given, not a bot) and whose cookie is valid.

    The middleware mints a fresh visitor id for a request without a cookie; such an id, or a
    forged one, must not receive events, so the signed cookie itself is read again here.
    """

    message = _("Events are accepted only from a tracked visitor with a valid visitor cookie.")

    def has_permission(self, request: Request, view: APIView) -> bool:
        state = getattr(request, "promotions", None)
        visitor_id = read_visitor_id(request)
        return state is not None and state.allowed and visitor_id is not None and visitor_id == state.visitor_id


class SameOrigin(BasePermission):
    """The post comes from one of the shop's own pages, by its Origin header, else its Referer."""

    message = _("Events are accepted only from the shop's own pages.")

    def has_permission(self, request: Request, view: APIView) -> bool:
        source = request.headers.get("Origin") or request.headers.get("Referer") or ""
        host = urlsplit(source).netloc
        if not host:  # neither header, or Origin "null" (sandboxed frames, privacy-stripped requests)
            return False
        # Browsers never send user info or backslashes here; parsers disagree on where such a host
        # ends (http://evil.example\@shop is evil.example to a browser, shop to urlsplit).
        if "@" in host or "\\" in host:
            return False
        if host == request.get_host():
            return True
        # The shop's other host names; a "*" wildcard would let any site in, so it does not count here.
        allowed = [pattern for pattern in settings.ALLOWED_HOSTS if pattern != "*"]
        return validate_host(urlsplit(source).hostname or "", allowed)
