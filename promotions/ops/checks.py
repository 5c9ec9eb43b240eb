"""Deployment checks (``manage.py check --deploy``): settings that are unsafe in front of customers.

The shop's own settings (DEBUG, SECRET_KEY, ALLOWED_HOSTS, secure cookies) are warnings with the
app's ids (W101-W104), as Django's own deployment findings are: a shop whose settings are right runs
``check --deploy`` cleanly, and ``--fail-level WARNING`` makes any finding fail the command. Where
the app itself would be unsafe (its beacon throttle, its operations endpoints: E105, E106) the
finding is an error and the command fails.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, register
from django.core.checks import Warning as CheckWarning

from ..conf import app_settings

# Django's own bar for a secret key (security.W009), made an error here.
SECRET_KEY_MIN_LENGTH = 50
SECRET_KEY_MIN_UNIQUE_CHARACTERS = 5
OPS_TOKEN_MIN_LENGTH = 32


def _secret_key_problem() -> str | None:
    try:
        key = str(settings.SECRET_KEY)
    except Exception:  # ImproperlyConfigured: empty
        return "it is empty"
    if len(key) < SECRET_KEY_MIN_LENGTH or len(set(key)) < SECRET_KEY_MIN_UNIQUE_CHARACTERS:
        return f"it is shorter than {SECRET_KEY_MIN_LENGTH} characters or has fewer than 5 different ones"
    if "insecure" in key.lower():
        return "it is a development key"
    return None


def _ops_problems() -> list[Error]:
    errors = []
    token = app_settings.OPS_TOKEN
    if token and len(token) < OPS_TOKEN_MIN_LENGTH:
        errors.append(
            Error(
                f"PROMOTIONS['OPS_TOKEN'] is shorter than {OPS_TOKEN_MIN_LENGTH} characters.",
                hint="Use a random token, e.g. python -c 'import secrets; print(secrets.token_urlsafe(32))'.",
                id="promotions.E106",
            )
        )
    for network in app_settings.OPS_ALLOWED_NETWORKS:
        try:
            parsed = ipaddress.ip_network(network, strict=False)
        except (TypeError, ValueError):
            errors.append(
                Error(f"PROMOTIONS['OPS_ALLOWED_NETWORKS'] has a malformed network {network!r}.", id="promotions.E106")
            )
            continue
        if parsed.prefixlen == 0:
            errors.append(
                Error(
                    f"PROMOTIONS['OPS_ALLOWED_NETWORKS'] opens health and metrics to everyone ({network}).",
                    hint="List the load balancer's and the monitoring servers' networks only.",
                    id="promotions.E106",
                )
            )
    return errors


@register(Tags.security, deploy=True)
def check_deployment(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    errors: list[CheckMessage] = []
    if settings.DEBUG:
        errors.append(
            CheckWarning(
                "DEBUG is on: error pages show code, settings and request data to anyone.",
                hint="Turn it off in production (the demo shop: unset DJANGO_DEBUG).",
                id="promotions.W101",
            )
        )
    problem = _secret_key_problem()
    if problem:
        errors.append(
            CheckWarning(
                f"SECRET_KEY is unsafe: {problem}. Visitor cookies and sessions can be forged with a known key.",
                hint="Set a long random key from the environment (the demo shop: DJANGO_SECRET_KEY).",
                id="promotions.W102",
            )
        )
    hosts = list(settings.ALLOWED_HOSTS)
    if not hosts or "*" in hosts:
        errors.append(
            CheckWarning(
                "ALLOWED_HOSTS is empty or holds '*'.",
                hint="List the shop's host names (the demo shop: DJANGO_ALLOWED_HOSTS).",
                id="promotions.W103",
            )
        )
    insecure = [name for name in ("SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE") if not getattr(settings, name)]
    if insecure:
        errors.append(
            CheckWarning(
                f"{' and '.join(insecure)} off: sign-in and form cookies also travel over plain HTTP.",
                hint="Serve the shop over HTTPS and set them to True (the demo shop: DJANGO_HTTPS=1).",
                id="promotions.W104",
            )
        )
    if getattr(settings, "REST_FRAMEWORK", {}).get("NUM_PROXIES") is None:
        errors.append(
            Error(
                "REST_FRAMEWORK['NUM_PROXIES'] is not set: the beacon's per-address throttle trusts any "
                "X-Forwarded-For header, so a client lifts it by sending a new address each time.",
                hint="Set it to the number of proxies in front of the shop (0 when clients connect directly).",
                id="promotions.E105",
            )
        )
    return errors + _ops_problems()
