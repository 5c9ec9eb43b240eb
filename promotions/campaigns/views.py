"""Where a campaign link lands: the token is checked, the click recorded for the customer, and the
visitor sent on to the product or promotion; unsubscribe links record the customer's wish."""

from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from ..cards import cards
from ..conf import app_settings
from ..tracking.capture import track
from ..tracking.models import EventType, Visitor
from . import tokens
from .models import Campaign, Unsubscribe

logger = logging.getLogger("promotions.campaigns")


def _bad_link(request: HttpRequest, reason: str) -> HttpResponse:
    message = _("This link has expired.") if reason == "expired" else _("This link is not valid.")
    return render(request, "promotions/campaigns/bad_link.html", {"message": message}, status=400)


def _user_id(customer: str) -> int | None:
    return int(customer[2:]) if customer.startswith("u:") and customer[2:].isdigit() else None


def _identify(request: HttpRequest, user_id: int) -> None:
    """The browser's visitor id joins the customer's ids, unless it already belongs to someone."""
    visitor_id = getattr(request, "visitor_id", None)
    if visitor_id:
        visitor, _created = Visitor.objects.get_or_create(key=visitor_id, defaults={"user_id": user_id})
        if visitor.user_id is None:
            Visitor.objects.filter(pk=visitor.pk, user__isnull=True).update(user_id=user_id)


@require_http_methods(["GET", "HEAD", "POST"])
def campaign_link(request: HttpRequest, token: str) -> HttpResponse:
    try:
        link = tokens.read_token(token)
    except tokens.BadLink as exc:
        return _bad_link(request, str(exc))
    campaign = Campaign.objects.filter(pk=link.campaign_id).first()
    if campaign is None:
        return _bad_link(request, "unknown")
    if link.kind == tokens.UNSUBSCRIBE:
        return _unsubscribe(request, link)
    if request.method == "POST":
        return _bad_link(request, "method")
    if link.kind == tokens.PRODUCT:
        card = cards([link.target]).get(link.target)
        destination = card.url if card is not None and card.url else app_settings.CAMPAIGN_LANDING_URL
    else:
        destination = app_settings.CAMPAIGN_LANDING_URL
    if request.method == "GET":
        user_id = _user_id(link.customer)
        fields = {"product": link.target} if link.kind == tokens.PRODUCT else {"promotion_id": int(link.target)}
        context = {"campaign": campaign.pk, "customer": link.customer, "link": link.kind}
        # The normal tracking path: stored with the page's other events once the response went out,
        # and only where the visitor may be tracked (consent, Do Not Track).
        if track(request, EventType.CAMPAIGN_CLICK, user_id=user_id, context=context, **fields) and user_id:
            try:
                _identify(request, user_id)
            except Exception:
                logger.exception("promotions: could not link a campaign visitor to customer %s", link.customer)
    return HttpResponseRedirect(destination)


def _unsubscribe(request: HttpRequest, link: tokens.Link) -> HttpResponse:
    """GET asks (mail scanners follow links), POST records."""
    done = request.method == "POST"
    if done:
        Unsubscribe.objects.get_or_create(customer_key=link.customer, defaults={"user_id": _user_id(link.customer)})
    return render(request, "promotions/campaigns/unsubscribe.html", {"done": done})
