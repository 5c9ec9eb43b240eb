"""The middleware that identifies visitors and records what they do, without touching the shop's views."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_vary_headers

from ..conf import app_settings
from ..visitors.identity import new_visitor_id, read_visitor_id, visitor_id_issued_at, write_visitor_id
from . import buffer
from .capture import TrackingState, make_event, tracking_allowed, write_pending
from .limits import QUERY_LENGTH, clean_text
from .models import EventType

logger = logging.getLogger(__name__)


def _ignored_prefixes() -> tuple[str, ...]:
    prefixes = list(app_settings.IGNORED_PATH_PREFIXES) + ["/admin/"]
    for setting in ("STATIC_URL", "MEDIA_URL"):
        url = getattr(settings, setting, None)
        if url and url != "/":  # an unset MEDIA_URL reads as "/", which would ignore everything
            prefixes.append(url if url.startswith("/") else "/" + url)
    return tuple(prefixes)


class TrackingMiddleware:
    """Sets ``request.visitor_id`` and ``request.promotions``, captures page events, writes them.

    Bots, opted-out visitors (DNT, GPC, no consent) and ignored paths get no cookie and no
    events. A failure here is logged and counted; the page is always served.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        existing = None
        try:
            allowed = not request.path.startswith(_ignored_prefixes()) and tracking_allowed(request)
            existing = read_visitor_id(request) if allowed else None
            visitor_id = (existing or new_visitor_id()) if allowed else None
        except Exception:
            logger.exception("promotions: tracking disabled for this request")
            allowed, visitor_id = False, None
        request.visitor_id = visitor_id
        issued_at = None
        if allowed:
            issued_at = time.time() if existing is None else visitor_id_issued_at(request)
        request.promotions = TrackingState(
            allowed=allowed,
            visitor_id=visitor_id,
            cache_writes={} if allowed else None,
            cache_counts={} if allowed else None,
            issued_at=issued_at,
        )

        response = self.get_response(request)
        if getattr(request, "promotions_personalized", False):
            # A page that shows personalized content differs per visitor: caches must key on the cookie.
            patch_vary_headers(response, ("Cookie",))

        if allowed:
            try:
                self._capture_page_event(request, response)
                if existing is None:
                    write_visitor_id(response, visitor_id, secure=request.is_secure())
            except Exception:
                logger.exception("promotions: could not capture this request's events")
            # Written when the server closes the response, after the body went out: the visitor
            # does not wait for the buffer. (Django runs these closers in HttpResponse.close().)
            response._resource_closers.append(lambda: _write_safely(request))
        return response

    def process_view(self, request: HttpRequest, view_func: Callable, view_args: tuple, view_kwargs: dict) -> None:
        request.promotions_product_kwarg = getattr(view_func, "promotions_product_kwarg", None)

    def _capture_page_event(self, request: HttpRequest, response: HttpResponse) -> None:
        if request.method != "GET" or response.status_code != 200:
            return
        if not response.get("Content-Type", "").startswith("text/html"):
            return
        match = request.resolver_match
        if match is None:
            return
        kwarg = getattr(request, "promotions_product_kwarg", None) or app_settings.PRODUCT_VIEW_URL_NAMES.get(
            match.view_name
        )
        # Bounded (path and referrer cut, NUL removed) with every other field by make_event.
        context = {"path": request.path, "device": device_class(request)}
        referrer = _referrer_path(request)
        if referrer:
            context["referrer"] = referrer
        if kwarg and match.kwargs.get(kwarg):
            request.promotions.events.append(
                make_event(request, EventType.VIEW, item_id=str(match.kwargs[kwarg]), context=context)
            )
        elif match.view_name in app_settings.SEARCH_URL_NAMES:
            # Cleaned here too, as a query of nothing but NUL characters records no search.
            query = clean_text(request.GET.get(app_settings.SEARCH_QUERY_PARAM, ""), QUERY_LENGTH).strip()
            if query:
                count = getattr(request, "promotions_search_results", None)
                request.promotions.events.append(
                    make_event(request, EventType.SEARCH, query=query, result_count=count, context=context)
                )


def _write_safely(request: HttpRequest) -> None:
    try:
        write_pending(request)
    except Exception:
        buffer.failures["database"] += 1
        logger.exception("promotions: could not record this request's events")


def _referrer_path(request: HttpRequest) -> str:
    """The path of a same-site referrer; other sites' URLs are not stored."""
    referer = urlsplit(request.headers.get("Referer", ""))
    return referer.path if referer.netloc == request.get_host() else ""


def device_class(request: HttpRequest) -> str:
    agent = request.headers.get("User-Agent", "").lower()
    if "ipad" in agent or "tablet" in agent:
        return "tablet"
    if "mobi" in agent or "android" in agent or "iphone" in agent:
        return "mobile"
    return "desktop"
