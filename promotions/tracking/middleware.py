"""The middleware that gives every visitor a stable anonymous id."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from .identity import new_visitor_id, read_visitor_id, write_visitor_id

logger = logging.getLogger(__name__)


class TrackingMiddleware:
    """Sets ``request.visitor_id`` from the signed cookie, issuing a new id when needed.

    It must never break the shop's request: a failure is logged and the page is served.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        existing = read_visitor_id(request)
        request.visitor_id = existing or new_visitor_id()
        response = self.get_response(request)
        if existing is None:
            try:
                write_visitor_id(response, request.visitor_id, secure=request.is_secure())
            except Exception:  # the page matters more than the cookie
                logger.exception("promotions: could not set the visitor cookie")
        return response
