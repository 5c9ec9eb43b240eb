"""``GET /promotions/health/`` (JSON, 503 when a check fails) and ``GET /promotions/metrics/``.

Readable by active staff users, by requests carrying ``Authorization: Bearer <OPS_TOKEN>`` and
by clients whose address is in ``OPS_ALLOWED_NETWORKS``; everyone else gets 403. The address is
``REMOTE_ADDR``, the peer that connected: a load balancer's health probe connects itself.
"""

from __future__ import annotations

import hmac
import ipaddress

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from ..conf import app_settings
from . import metrics
from .health import CHECKS, run_checks


def access_allowed(request: HttpRequest) -> bool:
    user = getattr(request, "user", None)
    if user is not None and user.is_active and user.is_staff:
        return True
    token = app_settings.OPS_TOKEN
    scheme, _space, presented = request.headers.get("Authorization", "").partition(" ")
    if token and scheme.lower() == "bearer" and hmac.compare_digest(presented.strip().encode(), token.encode()):
        return True
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(network, strict=False) for network in app_settings.OPS_ALLOWED_NETWORKS)


def _forbidden() -> JsonResponse:
    return JsonResponse({"detail": _("Staff, the operations token or an allowed network is required.")}, status=403)


def _selected_checks(request: HttpRequest) -> list[str] | None:
    """``?checks=database,cache`` limits the run (a load balancer may ask only what the node needs)."""
    raw = request.GET.get("checks")
    if raw is None:
        return list(CHECKS)
    names = [name.strip() for name in raw.split(",") if name.strip()]
    if not names or any(name not in CHECKS for name in names):
        return None
    return list(dict.fromkeys(names))


@never_cache
@require_safe
def health(request: HttpRequest) -> HttpResponse:
    if not access_allowed(request):
        return _forbidden()
    names = _selected_checks(request)
    if names is None:
        message = _("Unknown check. Known checks: %(names)s.") % {"names": ", ".join(CHECKS)}
        return JsonResponse({"detail": message}, status=400)
    results = run_checks(names)
    failing = [result.name for result in results if not result.ok]
    body = {
        "status": "fail" if failing else "ok",
        "failing": failing,
        # Checks that passed (or failed) with something to look at; a warning never makes a 503.
        "warnings": [result.name for result in results if result.warnings],
        "checks": {result.name: result.as_dict() for result in results},
    }
    return JsonResponse(body, status=503 if failing else 200, json_dumps_params={"ensure_ascii": False})


@never_cache
@require_safe
def prometheus_metrics(request: HttpRequest) -> HttpResponse:
    if not access_allowed(request):
        return _forbidden()
    return HttpResponse(metrics.render(run_checks()), content_type=metrics.CONTENT_TYPE)
