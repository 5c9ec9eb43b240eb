"""A campaign's merge rows: per customer of its segment, the promotions and products the site would
show them, each with a personal signed link; the holdout is recorded and gets no row.

Each customer is served through the site's own serving code (``serving.promotions``,
``serving.recommendations``) with a request made for them: their user (or imported customer id)
and their first visitor id, tracking allowed. So the global holdout, experiments and bandits
decide for them as they would on a page. A customer whose row fails is reported and skipped;
the others go on. Nothing is stored unless the export finishes: recipients and the export time
are written in one transaction at the end.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import IO, Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from ..offers.models import Promotion
from ..serving.decide import decide
from ..serving.picks import Pick
from ..serving.promotions import ShownPromotion, personalized_promotions
from ..serving.recommendations import recommendations_for
from ..tracking.capture import TrackingState
from . import tokens
from .models import Campaign, Recipient
from .segments import Customer, segment_customers

logger = logging.getLogger("promotions.campaigns")

CSV = "csv"
JSONL = "jsonl"
FORMATS = (CSV, JSONL)
#: The user agent of the requests made for customers (a desktop browser for device segments).
AGENT = "Mozilla/5.0 (promotions campaign export)"


@dataclass
class ExportResult:
    now: datetime
    rows: list[dict[str, Any]] = field(default_factory=list)
    held_out: list[str] = field(default_factory=list)
    #: (customer, reason) of the customers skipped because their row failed.
    skipped: list[tuple[str, str]] = field(default_factory=list)


def customer_request(customer: Customer) -> HttpRequest:
    """A request as the customer's own page view would make it, for the serving code."""
    request = HttpRequest()
    request.method = "GET"
    request.path = request.path_info = "/"
    request.META = {"HTTP_USER_AGENT": AGENT, "SERVER_NAME": "campaign", "SERVER_PORT": "80"}
    user = None
    if customer.user_id is not None:
        user = get_user_model().objects.filter(pk=customer.user_id).first()
    request.user = user or AnonymousUser()
    visitor_id = customer.visitor_ids[0] if customer.visitor_ids else customer.key
    request.promotions = TrackingState(allowed=True, visitor_id=visitor_id)
    request.visitor_id = visitor_id
    request.session = {}
    return request


def discount_text(promotion: Promotion) -> str:
    """The discount in words, for the e-mail ("10%", "5.00 off", "buy 2, get 1 free")."""
    value = format(Decimal(promotion.value).normalize(), "f")  # 10, 12.5: no exponent, no trailing zeros
    kind = Promotion.Kind
    if promotion.kind == kind.PERCENTAGE:
        return _("%(value)s%% off") % {"value": value}
    if promotion.kind == kind.FIXED_AMOUNT:
        return _("%(value)s off") % {"value": promotion.value}
    if promotion.kind == kind.FIXED_PRICE:
        return _("for %(value)s") % {"value": promotion.value}
    if promotion.kind == kind.BUY_X_GET_Y:
        return _("buy %(buy)s, get %(free)s free") % {"buy": promotion.buy_quantity, "free": promotion.get_quantity}
    if promotion.kind == kind.FREE_SHIPPING:
        return _("free shipping")
    return ""


def promotion_code(promotion: Promotion) -> str:
    """A code the customer can type: the first reusable one, when the promotion needs a code."""
    if not promotion.coupon_required:
        return ""
    return promotion.codes.filter(single_use=False).order_by("pk").values_list("code", flat=True).first() or ""


def served(campaign: Campaign, request: HttpRequest) -> tuple[list[ShownPromotion], list[Pick]]:
    """The promotions and products the campaign's slot shows this request's person, as the
    ``personalized_promotions`` and ``recommended_products`` tags decide them."""
    shown = personalized_promotions(request, campaign.slot, campaign.promotion_count)
    decision = decide(request, campaign.slot)
    picks = recommendations_for(
        request,
        campaign.product_count,
        personalized=decision.personalized,
        slot=campaign.slot,
        model_name=decision.model_name,
    )
    return shown, picks


def customer_row(campaign: Campaign, customer: Customer, base_url: str, expires_at: int) -> dict[str, Any]:
    """The merge fields of one customer (raises when the serving or a link cannot be made)."""
    request = customer_request(customer)

    def link(kind: str, target: str) -> str:
        token = tokens.make_token(tokens.Link(campaign.pk, customer.key, kind, target, expires_at))
        return base_url + reverse("promotions:campaign_link", args=[token])

    shown, picks = served(campaign, request)
    return {
        "customer_id": customer.key,
        "email": customer.email,
        "promotions": [
            {
                "id": item.id,
                "title": str(item.message),
                "code": promotion_code(item.promotion),
                "discount": discount_text(item.promotion),
                "url": link(tokens.PROMOTION, str(item.id)),
            }
            for item in shown[: campaign.promotion_count]
        ],
        "products": [
            {
                "id": pick.card.id,
                "name": pick.card.title,
                "price": str(pick.card.price),
                "url": link(tokens.PRODUCT, pick.card.id),
            }
            for pick in picks[: campaign.product_count]
        ],
        "unsubscribe_url": link(tokens.UNSUBSCRIBE, ""),
    }


def export_campaign(
    campaign: Campaign,
    base_url: str,
    now: datetime | None = None,
    progress: Callable[[str], None] | None = None,
) -> ExportResult:
    """Every row of the campaign at ``now`` (default: the present), the holdout left out; stores
    nothing (``record_export`` does, once the rows are safely written). Raises SegmentError for a
    bad segment."""
    now = now or timezone.now()
    base_url = base_url.rstrip("/")
    expires_at = int(time.time()) + campaign.link_days * 86400
    result = ExportResult(now=now)
    for customer in segment_customers(campaign, now):
        if campaign.holds_out(customer.key):
            result.held_out.append(customer.key)
            continue
        try:
            result.rows.append(customer_row(campaign, customer, base_url, expires_at))
        except Exception as exc:  # one customer's failure never stops the others
            logger.exception("promotions: campaign %s could not make the row of %s", campaign.pk, customer.key)
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            result.skipped.append((customer.key, reason))
            if progress is not None:
                progress(_("Skipped %(customer)s: %(reason)s") % {"customer": customer.key, "reason": reason})
    return result


def record_export(campaign: Campaign, result: ExportResult) -> None:
    """Store who got a row and who was held out, and when (a customer exported again keeps the
    first time: their attribution window started then)."""
    now = result.now
    keys = [(row["customer_id"], False) for row in result.rows] + [(key, True) for key in result.held_out]
    with transaction.atomic():
        Recipient.objects.bulk_create(
            [
                Recipient(campaign=campaign, customer_key=key, user_id=_user_id(key), holdout=holdout, exported_at=now)
                for key, holdout in keys
            ],
            ignore_conflicts=True,  # exported again: the first export's time and arm stay
        )
        campaign.exported_at = campaign.exported_at or now
        campaign.save(update_fields=["exported_at"])


def _user_id(key: str) -> int | None:
    return int(key[2:]) if key.startswith("u:") and key[2:].isdigit() else None


# --- Formats ---------------------------------------------------------------------------------------


def csv_columns(campaign: Campaign) -> list[str]:
    columns = ["customer_id", "email", "unsubscribe_url"]
    for n in range(1, campaign.promotion_count + 1):
        columns += [f"promotion_{n}_{name}" for name in ("title", "code", "discount", "url")]
    for n in range(1, campaign.product_count + 1):
        columns += [f"product_{n}_{name}" for name in ("name", "price", "url")]
    return columns


def flat_row(row: dict[str, Any]) -> dict[str, str]:
    """One row as an e-mail tool's merge fields: ``promotion_1_title``, ``product_2_url``..."""
    flat = {"customer_id": row["customer_id"], "email": row["email"], "unsubscribe_url": row["unsubscribe_url"]}
    for n, item in enumerate(row["promotions"], 1):
        flat.update({f"promotion_{n}_{name}": str(item[name]) for name in ("title", "code", "discount", "url")})
    for n, item in enumerate(row["products"], 1):
        flat.update({f"product_{n}_{name}": str(item[name]) for name in ("name", "price", "url")})
    return flat


def write_rows(campaign: Campaign, rows: Iterable[dict[str, Any]], output: IO[str], fmt: str) -> None:
    if fmt == CSV:
        writer = csv.DictWriter(output, fieldnames=csv_columns(campaign), restval="", lineterminator="\n")
        writer.writeheader()
        writer.writerows(flat_row(row) for row in rows)
    elif fmt == JSONL:
        for row in rows:
            output.write(json.dumps(row, ensure_ascii=False) + "\n")
    else:
        raise ValueError(fmt)


def rows_text(campaign: Campaign, rows: Iterable[dict[str, Any]], fmt: str) -> str:
    output = io.StringIO()
    write_rows(campaign, rows, output, fmt)
    return output.getvalue()
