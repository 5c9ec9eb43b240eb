"""Requests carrying NUL characters are answered 400 before any view or database sees them.

PostgreSQL text cannot hold NUL (``\\x00``): a NUL that reaches a query (``/search/?q=%00``, a
product code ``/product/85123A%00/``, a session cookie) raises ``DataError``, a 500, in whatever
view or middleware runs that query. No browser sends one in a URL, so this middleware refuses
such a path or query string with a plain 400. Cookies cannot be refused that way (the browser
would send them again on every request): a cookie holding NUL is dropped instead, as if it had
never been set, and the session or consent it stood for is started afresh.

Other invalid bytes need nothing: Django re-percent-encodes invalid UTF-8 in the path and
decodes query strings with replacement characters.

Put it first in ``MIDDLEWARE``, before ``SessionMiddleware`` reads the session cookie.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.utils import translation
from django.utils.translation import gettext as _

logger = logging.getLogger("promotions.ops")

NUL = "\x00"


def has_nul(request: HttpRequest) -> bool:
    """Whether the path, a query parameter's name or one of its values holds a NUL character."""
    if NUL in request.path_info:
        return True
    return any(NUL in key or any(NUL in value for value in values) for key, values in request.GET.lists())


class RejectNulMiddleware:
    """Answers 400 to a path or query string with NUL; drops cookies with NUL."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if has_nul(request):
            # A warning, not an error: scanners send these all day, and nobody should be mailed.
            logger.warning("promotions: refused a request with NUL in its path or query string (400)")
            # Before LocaleMiddleware: the visitor's language is chosen here, not left from the last request.
            with translation.override(translation.get_language_from_request(request)):
                message = _("The address contains a NUL character, which is not allowed.")
            return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")
        cookies = request.COOKIES
        if any(NUL in name or NUL in value for name, value in cookies.items()):
            request.COOKIES = {name: value for name, value in cookies.items() if NUL not in name + value}
        return self.get_response(request)
