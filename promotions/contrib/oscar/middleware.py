"""``OscarPromotionsMiddleware``: what Oscar's views do not announce, seen from the request.

Put it after ``promotions.tracking.middleware.TrackingMiddleware`` (and Oscar's BasketMiddleware).
It makes the request known to the basket line receivers, gives the search event the number of
results Oscar's search page found, accepts the app's coupon codes in Oscar's voucher form, and
stops an order before payment when a promotion the shopper was shown can no longer be given.
"""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from ...conf import app_settings
from ...tracking.capture import set_search_results

logger = logging.getLogger(__name__)
_request: contextvars.ContextVar[HttpRequest | None] = contextvars.ContextVar("promotions_oscar_request", default=None)

VOUCHER_ADD_URL_NAME = "basket:vouchers-add"
PLACE_ORDER_URL_NAME = "checkout:preview"


def current_request() -> HttpRequest | None:
    """The request being served in this thread (None outside a request)."""
    return _request.get()


class OscarPromotionsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = _request.set(request)
        try:
            return self.get_response(request)
        finally:
            _request.reset(token)

    def process_view(self, request: HttpRequest, view_func: Callable, view_args: tuple, view_kwargs: dict) -> Any:
        if request.method != "POST" or request.resolver_match is None:
            return None
        from . import offers

        name = request.resolver_match.view_name
        if name == VOUCHER_ADD_URL_NAME:
            answer = offers.accept_code(request, request.POST.get("code", ""))
            if answer is not None:
                accepted, message = answer
                (messages.success if accepted else messages.error)(request, message)
                return redirect("basket:summary")
        elif name == PLACE_ORDER_URL_NAME and request.POST.get("action") == "place_order":
            problem = offers.verify_before_payment(request)
            if problem:
                messages.error(request, problem)
                return redirect("basket:summary")
        return None

    def process_template_response(self, request: HttpRequest, response: Any) -> Any:
        match = request.resolver_match
        if match is not None and match.view_name in app_settings.SEARCH_URL_NAMES:
            paginator = (response.context_data or {}).get("paginator")
            if paginator is not None:
                try:
                    set_search_results(request, paginator.count)
                except Exception:  # a search backend that cannot count: the event has no count
                    logger.exception("promotions: could not count the search results")
        return response
