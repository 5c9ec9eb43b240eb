"""Exact origin matching for the beacon: scheme, host and port, each compared as a browser would.

An origin is allowed when it is

* the request's own (the scheme Django sees, ``request.get_host()``, its port);
* another of ``ALLOWED_HOSTS`` on that same scheme and port (``"*"`` does not count);
* in ``CSRF_TRUSTED_ORIGINS`` or ``PROMOTIONS["ALLOWED_ORIGINS"]`` (``"https://*.shop.example"``
  allows the subdomains of ``shop.example`` on that scheme and port).

Anything that is not a plain ``http(s)://host[:port]`` (user info, backslashes, a port with
letters such as ``http://shop:8792.evil.com``, a trailing dot, ``null``) matches nothing.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.http import HttpRequest
from django.http.request import validate_host
from django.utils.http import is_same_domain

from ..conf import app_settings

DEFAULT_PORTS = {"http": 80, "https": 443}
_LABEL = r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?"
_NETLOC = re.compile(rf"(?P<host>(?:\*\.)?{_LABEL}(?:\.{_LABEL})*|\[[0-9a-f:.]+\])(?::(?P<port>[0-9]{{1,5}}))?")

#: (scheme, host, port), the host lower-case, the port explicit.
Origin = tuple[str, str, int]


def parse_origin(value: str, wildcard: bool = False) -> Origin | None:
    """The origin of an Origin or Referer header (or a configured origin), None when it is not one.

    With ``wildcard``, a host ``*.shop.example`` is returned as ``.shop.example`` (its subdomains).
    """
    scheme, separator, rest = value.partition("://")
    scheme = scheme.lower()
    if not separator or scheme not in DEFAULT_PORTS:
        return None
    netloc = re.split(r"[/?#]", rest, maxsplit=1)[0].lower()  # a Referer's path, query or fragment follows
    match = _NETLOC.fullmatch(netloc)
    if match is None or (match["host"].startswith("*") and not wildcard):
        return None
    port = int(match["port"]) if match["port"] else DEFAULT_PORTS[scheme]
    if not 0 < port < 65536:
        return None
    return scheme, match["host"].removeprefix("*"), port


def configured_origins() -> list[str]:
    """The origins allowed besides the shop's own host names."""
    return [*getattr(settings, "CSRF_TRUSTED_ORIGINS", []), *app_settings.ALLOWED_ORIGINS]


def origin_allowed(value: str, request: HttpRequest) -> bool:
    """Whether the header ``value`` names an origin allowed to post to this request's endpoint."""
    origin = parse_origin(value)
    if origin is None:
        return False
    own = parse_origin(f"{request.scheme}://{request.get_host()}")
    if origin == own:
        return True
    scheme, host, port = origin
    if own is not None and (scheme, port) == (own[0], own[2]):
        # The shop's other host names; a "*" wildcard would let any site in, so it does not count here.
        if validate_host(host, [pattern for pattern in settings.ALLOWED_HOSTS if pattern != "*"]):
            return True
    for allowed in filter(None, (parse_origin(entry, wildcard=True) for entry in configured_origins())):
        if (scheme, port) == (allowed[0], allowed[2]) and (
            host == allowed[1] or (allowed[1].startswith(".") and is_same_domain(host, allowed[1]))
        ):
            return True
    return False
