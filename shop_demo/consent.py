"""The visitor's answer to the consent banner, kept in a first-party cookie.

The promotions tracking middleware calls ``has_consent`` through its consent-hook setting.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse

COOKIE_NAME = "shop_consent"
COOKIE_AGE = 365 * 24 * 3600  # one year, as the banner says
ACCEPTED, DECLINED = "yes", "no"


def has_consent(request: HttpRequest) -> bool:
    """True only when the visitor accepted the personalization cookie."""
    return request.COOKIES.get(COOKIE_NAME) == ACCEPTED


def has_answered(request: HttpRequest) -> bool:
    """True once the visitor accepted or declined, so the banner is no longer shown."""
    return request.COOKIES.get(COOKIE_NAME) in (ACCEPTED, DECLINED)


def remember_answer(response: HttpResponse, accepted: bool, secure: bool) -> None:
    response.set_cookie(
        COOKIE_NAME,
        ACCEPTED if accepted else DECLINED,
        max_age=COOKIE_AGE,
        httponly=True,
        samesite="Lax",
        secure=secure,
    )
