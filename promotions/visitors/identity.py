"""The anonymous visitor id, kept in a first-party signed cookie."""

from __future__ import annotations

import uuid

from django.core import signing
from django.http import HttpRequest, HttpResponse

from ..conf import app_settings

SALT = "promotions.visitor"


def new_visitor_id() -> str:
    return uuid.uuid4().hex


def read_visitor_id(request: HttpRequest) -> str | None:
    """The visitor id of a validly signed cookie; None for a missing, forged or expired one."""
    try:
        value = request.get_signed_cookie(
            app_settings.VISITOR_COOKIE_NAME, salt=SALT, max_age=app_settings.VISITOR_COOKIE_AGE
        )
    except (KeyError, signing.BadSignature):
        return None
    return value if len(value) == 32 and all(c in "0123456789abcdef" for c in value) else None


def visitor_id_issued_at(request: HttpRequest) -> float | None:
    """When the visitor cookie was issued (the time its signature carries), for a cookie that
    ``read_visitor_id`` accepted; None when it cannot be read."""
    raw = request.COOKIES.get(app_settings.VISITOR_COOKIE_NAME, "")
    try:
        _value, stamp, _signature = raw.rsplit(signing.Signer().sep, 2)
        return float(signing.b62_decode(stamp))
    except (ValueError, TypeError):
        return None


def write_visitor_id(response: HttpResponse, visitor_id: str, secure: bool) -> None:
    response.set_signed_cookie(
        app_settings.VISITOR_COOKIE_NAME,
        visitor_id,
        salt=SALT,
        max_age=app_settings.VISITOR_COOKIE_AGE,
        httponly=True,
        samesite="Lax",
        secure=secure,
    )
