"""The beacon's payload: a batch of impressions, clicks and dwell times, validated field by field."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from django.core.validators import RegexValidator
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from ..conf import app_settings
from ..tracking import buffer
from ..tracking.capture import make_event
from ..tracking.limits import ITEM_ID_LENGTH, PATH_LENGTH, TOKEN_LENGTH
from ..tracking.middleware import device_class
from ..tracking.models import EventType

#: The only event types a browser may report; everything else is recorded by the server.
BEACON_EVENT_TYPES = (
    EventType.PROMOTION_IMPRESSION,
    EventType.PROMOTION_CLICK,
    EventType.RECOMMENDATION_IMPRESSION,
    EventType.RECOMMENDATION_CLICK,
    EventType.DWELL,
)
#: What each type must name: the promotion shown, or the product recommended or viewed.
REQUIRED_FIELDS = {
    EventType.PROMOTION_IMPRESSION: ("promotion",),
    EventType.PROMOTION_CLICK: ("promotion",),
    EventType.RECOMMENDATION_IMPRESSION: ("product",),
    EventType.RECOMMENDATION_CLICK: ("product",),
    EventType.DWELL: ("product", "dwell_seconds"),
}
# A day: anything longer is a tab left open, not attention.
MAX_DWELL_SECONDS = 24 * 3600
token = RegexValidator(r"^[\w.:-]+\Z", _("Use letters, digits and . : _ - only."))


class StrictSerializer(serializers.Serializer):
    """Refuses keys it does not declare, so a client cannot slip in fields such as a visitor id."""

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        if isinstance(data, Mapping):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({name: [_("Unknown field.")] for name in unknown})
        return super().to_internal_value(data)


class BeaconEventSerializer(StrictSerializer):
    """One thing the browser saw or did, under a client-made id that makes re-sending harmless."""

    type = serializers.ChoiceField(choices=[(kind.value, kind.label) for kind in BEACON_EVENT_TYPES])
    id = serializers.UUIDField(help_text=_("A uuid made by the client; a re-sent event is stored once."))
    # The shared capture limits (DRF's CharField also refuses NUL and lone surrogates).
    product = serializers.CharField(max_length=ITEM_ID_LENGTH, required=False, help_text=_("The product's public id."))
    promotion = serializers.IntegerField(min_value=1, max_value=2**63 - 1, required=False)
    recommendation_id = serializers.CharField(max_length=TOKEN_LENGTH, required=False, validators=[token])
    slot = serializers.CharField(max_length=TOKEN_LENGTH, required=False, validators=[token])
    dwell_seconds = serializers.FloatField(min_value=0, max_value=MAX_DWELL_SECONDS, required=False)
    page = serializers.CharField(max_length=PATH_LENGTH, required=False, help_text=_("The path of the page."))

    def validate_page(self, value: str) -> str:
        if not value.startswith("/") or value.startswith("//"):
            raise serializers.ValidationError(_("Send the page's path, starting with a single slash."))
        # Query strings and fragments may carry personal data: only the path is kept.
        return urlsplit(value).path

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        kind = attrs["type"]
        message = _("This field is required for %(type)s events.") % {"type": kind}
        errors = {name: [message] for name in REQUIRED_FIELDS[kind] if name not in attrs}
        if kind != EventType.DWELL and "dwell_seconds" in attrs:
            errors["dwell_seconds"] = [_("Only dwell events carry dwell seconds.")]
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class BeaconBatchSerializer(StrictSerializer):
    """A batch of beacon events, stored all together or not at all."""

    def get_fields(self) -> dict[str, serializers.Field]:
        # Built per instance, so that a change of PROMOTIONS["BEACON_MAX_EVENTS"] applies at once.
        return {
            "events": BeaconEventSerializer(many=True, allow_empty=False, max_length=app_settings.BEACON_MAX_EVENTS)
        }

    def create(self, validated_data: dict[str, Any]) -> list[dict[str, Any]]:
        request: HttpRequest = self.context["request"]
        events = [beacon_event(request, item) for item in validated_data["events"]]
        buffer.write(events)
        return events


def idempotency_key(visitor_id: str, client_id: str) -> str:
    """The same client event of the same visitor always gets the same key, so a re-sent batch is a no-op."""
    return "beacon:" + hashlib.sha256(f"{visitor_id}:{client_id}".encode()).hexdigest()


def beacon_event(request: HttpRequest, item: dict[str, Any]) -> dict[str, Any]:
    """The stored form of one validated beacon event of the request's visitor."""
    context = {"device": device_class(request), "source": "beacon"}
    for name, key in (("page", "path"), ("slot", "slot"), ("recommendation_id", "recommendation_id")):
        if item.get(name):
            context[key] = item[name]
    event = make_event(
        request,
        item["type"],
        item_id=item.get("product"),
        promotion_id=item.get("promotion"),
        dwell_seconds=item.get("dwell_seconds"),
        context=context,
    )
    event["idempotency_key"] = idempotency_key(request.visitor_id, item["id"].hex)
    return event
