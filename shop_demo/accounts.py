"""Sign-in throttling for django-axes: the client address it counts by, and the lockout page."""

from __future__ import annotations

import math

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from rest_framework.throttling import BaseThrottle


def client_address(request: HttpRequest) -> str:
    """The client's address: REMOTE_ADDR, or with ``REST_FRAMEWORK["NUM_PROXIES"]`` proxies in front,
    the X-Forwarded-For entry the nearest of them added (DRF's rule, shared with the beacon's throttle),
    so that a client cannot claim a fresh address for each attempt by sending the header itself."""
    return BaseThrottle().get_ident(request) or ""


def locked_out(request: HttpRequest, original_response: HttpResponse | None = None, credentials: dict | None = None):
    """429 with a page saying for how long, and Retry-After: each failure during a lockout restarts it."""
    seconds = int(settings.AXES_COOLOFF_TIME.total_seconds())
    response = render(request, "registration/locked_out.html", {"minutes": math.ceil(seconds / 60)}, status=429)
    response["Retry-After"] = str(seconds)
    return response
