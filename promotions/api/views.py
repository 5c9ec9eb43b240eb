"""The beacon endpoint: impressions, clicks and dwell times reported by ``promotions.js``."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import APIException, ParseError
from rest_framework.generics import GenericAPIView
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.response import Response

from ..conf import app_settings
from .authentication import ShopSessionUser
from .permissions import SameOrigin, TrackedVisitor
from .schema import ApiSchema, documented, errors
from .serializers import BeaconBatchSerializer
from .throttling import AddressRateThrottle, VisitorRateThrottle


class PayloadTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = _("The request body is larger than the endpoint accepts.")
    default_code = "payload_too_large"


class BoundedJSONParser(JSONParser):
    """JSON nested deeper than Python's parser recurses (``[[[[...``) is a 400, not a crash."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: dict | None = None) -> Any:
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(_("JSON parse error - the document is nested too deeply.")) from None


class PlainTextJSONParser(BoundedJSONParser):
    """JSON sent as text/plain: sendBeacon's Blob of that type needs no CORS preflight."""

    media_type = "text/plain"


def declared_length(request: Request) -> int:
    """The body's Content-Length; Django reads no body at all when it is missing or malformed."""
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


class EventBeaconView(GenericAPIView):
    """Store a batch of the visitor's client-side events; all of them, or none when one is invalid."""

    serializer_class = BeaconBatchSerializer
    schema = ApiSchema()
    parser_classes = [BoundedJSONParser, PlainTextJSONParser]
    # CSRF-exempt, as every APIView without SessionAuthentication: sendBeacon cannot send a token.
    # The permissions, the throttle and the size limits defend the endpoint instead.
    authentication_classes = [ShopSessionUser]
    permission_classes = [SameOrigin, TrackedVisitor]
    throttle_classes = [VisitorRateThrottle, AddressRateThrottle]

    @documented(
        operation_id="beacon_events",
        summary="The visitor's impressions, clicks and dwell times (promotions.js)",
        request={"application/json": BeaconBatchSerializer, "text/plain": BeaconBatchSerializer},
        responses={
            (202, "application/json"): OpenApiResponse(
                inline_serializer("BeaconAccepted", {"accepted": serializers.IntegerField(min_value=1)}),
                description=_("Accepted: every event of the batch is stored (a re-sent event only once)."),
            ),
            **errors(
                400,
                403,
                413,
                415,
                429,
                e400=_("Invalid batch, with field errors; nothing is stored."),
                e403=_("No valid visitor cookie, tracking not allowed, or a foreign Origin/Referer."),
                e413=_("The body is larger than PROMOTIONS['BEACON_MAX_BYTES']; nothing is stored."),
                e415=_("The body is neither application/json nor text/plain."),
                e429=_("Too many requests from this visitor; retry after the Retry-After header."),
            ),
        },
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        # Checked before request.data is read, so an oversized body is never parsed.
        if declared_length(request) > app_settings.BEACON_MAX_BYTES:
            raise PayloadTooLarge()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        events = serializer.save()
        return Response({"accepted": len(events)}, status=status.HTTP_202_ACCEPTED)
