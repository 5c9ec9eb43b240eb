"""Who may post beacon events: the shop's own pages, for a tracked visitor holding a signed cookie.

The endpoint cannot use CSRF tokens (``navigator.sendBeacon`` sends no custom header), so these
checks, with throttling and the size limits, are its defence against forged and foreign posts.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import NotAuthenticated
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.views import APIView

from ..visitors.identity import read_visitor_id
from .keys import ApiKey
from .origins import origin_allowed


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
    """The post comes from one of the shop's own origins (``origins.origin_allowed``), by its Origin
    header, else its Referer; neither header (or Origin ``null``) is refused."""

    message = _("Events are accepted only from the shop's own pages.")

    def has_permission(self, request: Request, view: APIView) -> bool:
        source = request.headers.get("Origin") or request.headers.get("Referer") or ""
        return origin_allowed(source, request)


class HasScope(BasePermission):
    """An API key (``ApiKeyAuthentication``) holding the view's ``required_scope``: none is a 401,
    a key without the scope a 403."""

    message = _("This API key does not hold the scope this endpoint needs.")

    def has_permission(self, request: Request, view: APIView) -> bool:
        key = request.auth
        if not isinstance(key, ApiKey):
            raise NotAuthenticated(_("Send an API key: 'Authorization: Bearer <key>'."))
        return view.required_scope in key.scopes
