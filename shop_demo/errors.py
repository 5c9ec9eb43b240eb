"""The shop's answer to an unhandled error: a friendly 503 page while the database is unreachable.

Django calls ``handler500`` for any exception a view or a middleware lets through (a session
read, the view's queries). When that exception is a database connection error, the shop is
temporarily unavailable rather than broken: it answers 503 with Retry-After, so load balancers
and crawlers come back later, and a short page for the visitor. The page is rendered without
the request's context processors, which would query the database again.
"""

from __future__ import annotations

import logging
import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.template import loader
from django.views import defaults

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 30


def server_error(request: HttpRequest, template_name: str = defaults.ERROR_500_TEMPLATE_NAME) -> HttpResponse:
    error = sys.exc_info()[1]
    if isinstance(error, OperationalError | InterfaceError):
        logger.warning("shop: database unavailable, answered 503 for %s", request.path)
        response = HttpResponse(loader.render_to_string("503.html"), status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    return defaults.server_error(request, template_name)
