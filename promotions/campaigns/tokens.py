"""The signed token every campaign link carries: campaign, customer, what it opens, and until when.

Signed with Django's ``signing`` (the project's ``SECRET_KEY``, a salt of its own), so a link
cannot be altered to open another customer's or another campaign's page; the expiry is inside
the signed value, so each campaign sets its own.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.core import signing

SALT = "promotions.campaign-link"

PRODUCT = "product"
PROMOTION = "promotion"
UNSUBSCRIBE = "unsubscribe"
KINDS = (PRODUCT, PROMOTION, UNSUBSCRIBE)


class BadLink(Exception):
    """A token that was altered, is not one of ours, or has expired."""


@dataclass(frozen=True)
class Link:
    campaign_id: int
    customer: str
    kind: str
    target: str
    expires_at: int


def make_token(link: Link) -> str:
    payload = {"c": link.campaign_id, "p": link.customer, "k": link.kind, "t": link.target, "e": link.expires_at}
    return signing.dumps(payload, salt=SALT, compress=True)


def read_token(token: str, now: float | None = None) -> Link:
    """The link a token stands for; raises BadLink for a tampered, foreign or expired one."""
    try:
        payload = signing.loads(token, salt=SALT)
        link = Link(int(payload["c"]), str(payload["p"]), str(payload["k"]), str(payload["t"]), int(payload["e"]))
    except (signing.BadSignature, KeyError, TypeError, ValueError) as exc:
        raise BadLink("tampered") from exc
    if link.kind not in KINDS:
        raise BadLink("tampered")
    if link.expires_at < (time.time() if now is None else now):
        raise BadLink("expired")
    return link
