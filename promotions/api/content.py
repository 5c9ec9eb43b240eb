"""Read endpoints for headless shops and for the tags' asynchronous mode: the same promotions and
recommendations the template tags render, as JSON. Query parameters are validated by serializers
(an unknown slot or a limit out of range is a 400 with field errors)."""

from __future__ import annotations

from typing import Any

from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import inline_serializer
from rest_framework import serializers
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from ..cards import ProductCard, cards
from ..conf import app_settings
from ..serving.decide import decide
from ..serving.promotions import ShownPromotion, personalized_promotions
from ..serving.reasons import reason_data, reason_text
from ..serving.recommendations import Pick, recommendations_for, similar_to
from .authentication import ShopSessionUser
from .schema import ApiSchema, documented, errors
from .throttling import ContentRateThrottle

MAX_LIMIT = 24


class SlotField(serializers.CharField):
    def to_internal_value(self, data: Any) -> str:
        value = super().to_internal_value(data)
        if value not in app_settings.SLOTS:
            raise serializers.ValidationError(
                _("Unknown slot %(slot)s; known slots: %(known)s.")
                % {"slot": value, "known": ", ".join(app_settings.SLOTS)}
            )
        return value


class ContentQuerySerializer(serializers.Serializer):
    slot = SlotField(required=False, default="home", max_length=64)
    limit = serializers.IntegerField(required=False, default=3, min_value=1, max_value=MAX_LIMIT)
    product = serializers.CharField(required=False, max_length=64)


def card_data(card: ProductCard) -> dict[str, Any]:
    return {"id": card.id, "title": card.title, "url": card.url, "price": str(card.price), "category": card.category}


def pick_data(pick: Pick) -> dict[str, Any]:
    # The reason worded in the request's language, and as data ({"kind", "item_id", "category"}).
    return {**card_data(pick.card), "reason": reason_text(pick.reason), "reason_detail": reason_data(pick.reason)}


def promotion_data(shown: ShownPromotion) -> dict[str, Any]:
    promotion = shown.promotion
    return {
        "id": promotion.pk,
        "message": shown.message,
        "kind": promotion.kind,
        "value": str(promotion.value),
        "coupon_required": promotion.coupon_required,
        "reason": reason_text(shown.reason),
        "reason_detail": reason_data(shown.reason),
        "personalized": shown.personalized,
        "products": [
            {**card_data(card), "reason": reason_text(why), "reason_detail": reason_data(why)}
            for card, why in shown.entries
        ],
    }


class _ContentView(GenericAPIView):
    serializer_class = ContentQuerySerializer
    authentication_classes = [ShopSessionUser]
    permission_classes: list = []
    throttle_classes = [ContentRateThrottle]
    schema = ApiSchema()

    def query(self, request: Request) -> dict[str, Any]:
        serializer = self.get_serializer(data=request.query_params)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def finalize_response(self, request: Request, response: Response, *args: Any, **kwargs: Any) -> Response:
        response = super().finalize_response(request, response, *args, **kwargs)
        patch_vary_headers(response, ("Cookie",))  # personalized: a shared cache must not mix visitors
        response["Cache-Control"] = "private, no-store"
        return response


class PromotionsView(_ContentView):
    """``GET /promotions/api/promotions/?slot=home&limit=3``: the visitor's promotions for a slot."""

    @documented(
        operation_id="visitor_promotions",
        summary="The cookie's visitor's promotions for a slot",
        parameters=[ContentQuerySerializer],
        responses={
            (200, "application/json"): inline_serializer(
                "VisitorPromotions", {"slot": serializers.CharField(), "results": serializers.ListField()}
            ),
            **errors(400, 429),
        },
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        query = self.query(request)
        shown = personalized_promotions(request._request, query["slot"], query["limit"])
        return Response({"slot": query["slot"], "results": [promotion_data(item) for item in shown]})


class RecommendationsView(_ContentView):
    """``GET /promotions/api/recommendations/?limit=8[&product=<id>]``: products for the visitor, or
    products similar to ``product``."""

    @documented(
        operation_id="visitor_recommendations",
        summary="Products for the cookie's visitor, or similar to a product",
        parameters=[ContentQuerySerializer],
        responses={
            (200, "application/json"): inline_serializer(
                "VisitorRecommendations", {"slot": serializers.CharField(), "results": serializers.ListField()}
            ),
            **errors(400, 429),
        },
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        query = self.query(request)
        django_request = request._request
        if query.get("product"):
            if not cards([query["product"]]):
                raise serializers.ValidationError({"product": [_("No such product.")]})
            picks = similar_to(django_request, query["product"], query["limit"], slot=query["slot"])
        else:
            decision = decide(django_request, query["slot"])
            picks = recommendations_for(
                django_request,
                query["limit"],
                personalized=decision.personalized,
                slot=query["slot"],
                model_name=decision.model_name,
            )
        return Response({"slot": query["slot"], "results": [pick_data(pick) for pick in picks]})
