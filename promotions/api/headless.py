"""The server-to-server API: reads by person, server-side events and basket pricing, for a shop's
own servers (a JavaScript front end's back end, a cart service, an e-mail tool) calling with an API
key (``keys.ApiKey``, ``Authorization: Bearer <key>``).

Each view reuses the code the pages use: reads run serving on the person's request
(``person.person_request``), events go through ``make_event`` (the capture limits) into the same
buffer as the beacon and the middleware, baskets through the checkout contract.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from .. import checkout
from ..cards import ProductCard, cards
from ..serving.decide import Decision, decide
from ..serving.promotions import ShownPromotion, personalized_promotions
from ..serving.recommendations import Pick, recommendations_for, similar_to
from ..tracking import buffer
from ..tracking.capture import make_event, write_pending
from ..training.versions import active_version_id
from ..visitors import recent
from . import bodies
from .authentication import ApiKeyAuthentication
from .keys import BASKETS, EVENTS, ORDERS, READ, ApiKey
from .permissions import HasScope
from .person import load_user, person_request, user_stub, visitor_for
from .schema import KEY_ERRORS, ApiSchema, documented, errors
from .throttling import ApiKeyRateThrottle
from .views import BoundedJSONParser, PayloadTooLarge, declared_length

logger = logging.getLogger("promotions.api")
#: One line per key-authenticated call (the key's prefix, the endpoint, the answer), so every
#: request is attributable to a key; events also carry it (``context.api_key``).
access_log = logging.getLogger("promotions.api.access")
#: Asked of serving beyond ``k`` when a category filter will drop most of the list.
CATEGORY_DEPTH = 200


def new_recommendation_id() -> str:
    return "rec-" + secrets.token_hex(12)


def reason_data(reason: Any, kind: str, item: str | None = None) -> dict[str, Any]:
    """A reason as data and as the sentence a page shows (in the request's language): ``kind``
    (where the pick comes from, or the reason's own kind), the product or category it names."""
    if reason is None or isinstance(reason, str):
        return {"kind": kind, "item": item, "category": None, "text": str(reason or "")}
    from ..serving.reasons import reason_text  # reasons carried as data (``recommenders.Reason``)

    return {"kind": reason.kind, "item": reason.item_id, "category": reason.category, "text": reason_text(reason)}


def product_data(card: ProductCard) -> dict[str, Any]:
    return {"id": card.id, "title": card.title, "url": card.url, "price": str(card.price), "category": card.category}


def pick_data(pick: Pick) -> dict[str, Any]:
    reason = reason_data(pick.reason, pick.source)
    return {**product_data(pick.card), "score": float(pick.score), "source": pick.source, "reason": reason}


def promotion_data(shown: ShownPromotion) -> dict[str, Any]:
    promotion = shown.promotion
    return {
        "id": promotion.pk,
        "message": str(shown.message),
        "kind": promotion.kind,
        "value": str(promotion.value),
        "coupon_required": promotion.coupon_required,
        "reason": reason_data(shown.reason, shown.step),
        "personalized": shown.personalized,
        "products": [product_data(card) for card in shown.products],
    }


def decision_data(decision: Decision, slot: str, model_version: int | None) -> dict[str, Any]:
    variant = decision.variant
    return {
        "recommendation_id": new_recommendation_id(),
        "model_version": model_version,
        "slot": slot,
        "decision": decision.step,
        "personalized": decision.personalized,
        "variant": None if variant is None else {"experiment": variant.experiment.key, "variant": variant.key},
    }


class KeyView(GenericAPIView):
    """A view for API keys holding ``required_scope``; every answer is private and unstored."""

    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [HasScope]
    throttle_classes = [ApiKeyRateThrottle]
    parser_classes = [BoundedJSONParser]
    required_scope = READ
    schema = ApiSchema()
    schema_tag = "read"

    def valid(self, serializer_class: type[serializers.Serializer], data: Any) -> dict[str, Any]:
        serializer = serializer_class(data=data, context={"request": self.request})
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def person(self, query: dict[str, Any], slot: str | None = None) -> HttpRequest:
        user = None
        if "user" in query:
            user = load_user(query["user"])
            if user is None:
                raise serializers.ValidationError({"user": [_("No such user.")]})
        return person_request(
            self.request._request,
            user=user,
            visitor_id=query.get("visitor"),
            history=query.get("history", ()),
            slot=slot,
        )

    def finalize_response(self, request: Request, response: Response, *args: Any, **kwargs: Any) -> Response:
        response = super().finalize_response(request, response, *args, **kwargs)
        response["Cache-Control"] = "private, no-store"
        key = request.auth if isinstance(request.auth, ApiKey) else None
        access_log.info(
            "api key=%s %s %s %s", key.prefix if key else "-", request.method, request.path, response.status_code
        )
        return response


class RecommendationsByPersonView(KeyView):
    """Products for a user, a visitor or an anonymous session's history."""

    serializer_class = bodies.RecommendationsQuery

    @documented(
        operation_id="recommendations_for_person",
        summary="Recommendations for a user, a visitor or an anonymous history",
        parameters=[bodies.RecommendationsQuery],
        responses={(200, "application/json"): bodies.RecommendationsOut, **errors(*KEY_ERRORS)},
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        query = self.valid(bodies.RecommendationsQuery, request.query_params)
        slot, k = query["slot"], query["k"]
        person = self.person(query, slot)
        decision = decide(person, slot)
        category = (query.get("category") or "").casefold()
        picks = recommendations_for(
            person,
            CATEGORY_DEPTH if category else k,
            personalized=decision.personalized,
            slot=slot,
            model_name=decision.model_name,
            exclude=query.get("exclude", ()),
        )
        if category:
            picks = [pick for pick in picks if pick.card.category.casefold() == category][:k]
            if len(picks) < k:  # the person's list holds too few of the category: the shop's best fill in
                typical = recommendations_for(person, CATEGORY_DEPTH, personalized=False, slot=slot)
                chosen = {pick.card.id for pick in picks} | set(query.get("exclude", ()))
                picks += [
                    pick for pick in typical if pick.card.category.casefold() == category and pick.card.id not in chosen
                ][: k - len(picks)]
        write_pending(person)
        answer = decision_data(decision, slot, _version(decision))
        answer["results"] = [pick_data(pick) for pick in picks]
        return Response(answer)


class SimilarItemsView(KeyView):
    """Products like one product (the same for everyone)."""

    serializer_class = bodies.SimilarQuery

    @documented(
        operation_id="similar_items",
        summary="Products similar to a product",
        parameters=[bodies.SimilarQuery],
        responses={(200, "application/json"): bodies.SimilarOut, **errors(*KEY_ERRORS)},
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        query = self.valid(bodies.SimilarQuery, request.query_params)
        if not cards([query["item"]]):
            raise serializers.ValidationError({"item": [_("No such product.")]})
        picks = similar_to(request._request, query["item"], query["k"], slot=query["slot"])
        return Response(
            {
                "recommendation_id": new_recommendation_id(),
                "model_version": active_version_id(),
                "item": query["item"],
                "results": [pick_data(pick) for pick in picks],
            }
        )


class PromotionsByPersonView(KeyView):
    """The promotions a user or visitor sees in a slot."""

    serializer_class = bodies.PromotionsQuery

    @documented(
        operation_id="promotions_for_person",
        summary="Personalized promotions for a user or a visitor in a slot",
        parameters=[bodies.PromotionsQuery],
        responses={(200, "application/json"): bodies.PromotionsOut, **errors(*KEY_ERRORS)},
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        query = self.valid(bodies.PromotionsQuery, request.query_params)
        slot = query["slot"]
        person = self.person(query, slot)
        shown = personalized_promotions(person, slot, query["limit"])
        decision = decide(person, slot)
        write_pending(person)  # a bandit's pick, as on a page
        answer = decision_data(decision, slot, _version(decision))
        answer["results"] = [promotion_data(item) for item in shown]
        return Response(answer)


def _version(decision: Decision) -> int | None:
    if decision.model_name:
        from ..serving.models_cache import model_for_serving

        return model_for_serving(decision.model_name)[0]
    return active_version_id()


# --- Events ----------------------------------------------------------------------------------


def idempotency_key(client_id: str, line: int | None = None) -> str:
    """The stored key of a client's event id (and purchase line): the same id is stored once."""
    text = client_id if line is None else f"{client_id}#{line}"
    return "api:" + hashlib.sha256(text.encode()).hexdigest()


def api_events(api_request: HttpRequest, item: dict[str, Any], key_prefix: str) -> list[dict[str, Any]]:
    """The stored events of one validated API event (a purchase: one per line)."""
    user = user_stub(item["user"]) if "user" in item else None
    person = person_request(api_request, user=user, visitor_id=item.get("visitor"))
    context: dict[str, Any] = {"source": "api", "api_key": key_prefix}
    for name in ("recommendation_id", "slot", "order"):
        if item.get(name):
            context[name] = item[name]
    fields = {
        "query": item.get("query"),
        "result_count": item.get("result_count"),
        "rating": item.get("rating"),
        "review_text": item.get("review"),
        "dwell_seconds": item.get("dwell_seconds"),
        "promotion_id": item.get("promotion"),
        "context": context,
    }
    if item.get("occurred_at") is not None:
        fields["occurred_at"] = item["occurred_at"]
    lines = item.get("lines")
    if lines is None:
        lines = [{"product": item.get("product"), "quantity": item.get("quantity"), "price": item.get("price")}]
        numbered = [(None, lines[0])]
    else:
        numbered = list(enumerate(lines))
    events = []
    for number, line in numbered:
        event = make_event(
            person,
            item["type"],
            item_id=line["product"],
            quantity=line["quantity"],
            unit_price=line["price"],
            **fields,
        )
        event["idempotency_key"] = idempotency_key(item["id"], number)
        events.append(event)
    return events


class EventsView(KeyView):
    """Store a batch of server-side events; each valid one exactly once, whatever the others hold."""

    serializer_class = bodies.EventBatchIn

    required_scope = EVENTS
    schema_tag = "events"

    @documented(
        operation_id="events_batch",
        summary="Store a batch of server-side events",
        request=bodies.EventBatchSchema,
        responses={
            (202, "application/json"): OpenApiResponse(
                bodies.EventsOut, description=_("Stored: every valid event once; the others listed.")
            ),
            **errors(*KEY_ERRORS, 413, 415, e400=_("A malformed batch, or every event invalid. Nothing is stored.")),
        },
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        if declared_length(request) > bodies.MAX_EVENT_BYTES:
            raise PayloadTooLarge()
        batch = self.valid(bodies.EventBatchIn, request.data)
        events: list[dict[str, Any]] = []
        rejected = []
        for index, raw in enumerate(batch["events"]):
            serializer = bodies.EventIn(data=raw, context={"request": request})
            if serializer.is_valid():
                events += api_events(request._request, serializer.validated_data, request.auth.prefix)
            else:
                client_id = raw.get("id") if isinstance(raw, dict) and isinstance(raw.get("id"), str) else None
                rejected.append({"index": index, "id": client_id, "errors": serializer.errors})
        buffer.write(events)
        for visitor_id in {event["visitor_id"] for event in events}:
            try:
                recent.remember(visitor_id, [event for event in events if event["visitor_id"] == visitor_id])
            except Exception:  # the events are stored; only the real-time list misses them
                logger.exception("promotions: could not update the recent items of a visitor")
        accepted = len({event["idempotency_key"] for event in events})
        code = status.HTTP_400_BAD_REQUEST if rejected and not events else status.HTTP_202_ACCEPTED
        return Response({"accepted": accepted, "rejected": rejected}, status=code)


# --- Baskets ---------------------------------------------------------------------------------


def shopper(query: dict[str, Any]) -> checkout.Shopper:
    user_id = query.get("user")
    visitor = query.get("visitor") or (visitor_for(user_id, None) if user_id is not None else None)
    return checkout.Shopper(visitor_id=visitor, user_id=user_id, email=query.get("email", ""), tracked=True)


def basket_lines(query: dict[str, Any]) -> list[checkout.BasketLine]:
    return [checkout.BasketLine(line["product"], line["quantity"], line.get("price")) for line in query["lines"]]


def basket_data(basket: checkout.PricedBasket) -> dict[str, Any]:
    return {
        "lines": [
            {
                "product": line.item_id,
                "quantity": line.quantity,
                "unit_price": str(line.unit_price),
                "discount": str(line.discount),
                "total": str(line.total),
            }
            for line in basket.lines
        ],
        "subtotal": str(basket.subtotal),
        "discount": str(basket.discount),
        "shipping": str(basket.shipping),
        "shipping_discount": str(basket.shipping_discount),
        "total": str(basket.total),
        "applied": [
            {
                "promotion": applied.promotion_id,
                "name": applied.name,
                "message": str(applied.message),
                "code": applied.code,
                "amount": str(applied.amount),
                "shipping_amount": str(applied.shipping_amount),
            }
            for applied in basket.applied
        ],
        "not_applied": [
            {
                "promotion": entry.promotion_id,
                "name": entry.name,
                "code": entry.code,
                "reason": entry.reason,
                "message": str(entry.message),
            }
            for entry in basket.not_applied
        ],
        "codes": list(basket.codes),
        "quote": basket.quote,
    }


class BasketPriceView(KeyView):
    """Price a basket as the checkout contract does (``checkout.price_basket``)."""

    serializer_class = bodies.BasketIn

    required_scope = BASKETS
    schema_tag = "baskets"

    @documented(
        operation_id="basket_price",
        summary="Price a basket with the promotions and codes the checkout applies",
        request=bodies.BasketIn,
        responses={(200, "application/json"): bodies.PricedBasketOut, **errors(*KEY_ERRORS, 415)},
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        query = self.valid(bodies.BasketIn, request.data)
        self.known_products(query)
        basket = checkout.price_basket(
            shopper(query), basket_lines(query), codes=query["codes"], shipping=Decimal(query["shipping"])
        )
        return Response(basket_data(basket))

    @staticmethod
    def known_products(query: dict[str, Any]) -> None:
        """Lines whose price is left out must name catalogue products (the price is read there)."""
        unpriced = [line["product"] for line in query["lines"] if line.get("price") is None]
        unknown = sorted(set(unpriced) - set(cards(unpriced)))
        if unknown:
            raise serializers.ValidationError(
                {"lines": [_("No such product: %(ids)s; send its price.") % {"ids": ", ".join(unknown)}]}
            )


class BasketRedeemView(BasketPriceView):
    """Record the quoted discounts for an order (``checkout.redeem``), or answer 409 with the new price."""

    serializer_class = bodies.RedeemIn
    required_scope = ORDERS

    @documented(
        operation_id="basket_redeem",
        summary="Redeem a quoted basket for an order",
        request=bodies.RedeemIn,
        responses={
            (201, "application/json"): bodies.RedeemedOut,
            (409, "application/json"): OpenApiResponse(
                bodies.RedeemRefusedOut, description=_("The price changed: nothing is recorded.")
            ),
            **errors(*KEY_ERRORS, 415),
        },
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        query = self.valid(bodies.RedeemIn, request.data)
        self.known_products(query)
        try:
            with transaction.atomic():
                done = checkout.redeem(
                    shopper(query),
                    basket_lines(query),
                    codes=query["codes"],
                    quote=query["quote"],
                    order_id=query["order"],
                    email=query.get("email", ""),
                    shipping=Decimal(query["shipping"]),
                )
        except checkout.CheckoutError as error:
            basket = None if error.new_basket is None else basket_data(error.new_basket)
            return Response(
                {"detail": str(error.message), "reason": error.reason, "basket": basket},
                status=status.HTTP_409_CONFLICT,
            )
        redemptions = [
            {"promotion": r.promotion_id, "code": r.code.code if r.code_id else None, "discount": str(r.discount)}
            for r in done
        ]
        return Response({"order": query["order"], "redemptions": redemptions}, status=status.HTTP_201_CREATED)


class BasketRefundView(KeyView):
    """Give an order's discounts back to the budgets (``checkout.refund``)."""

    serializer_class = bodies.RefundIn

    required_scope = ORDERS
    schema_tag = "baskets"

    @documented(
        operation_id="basket_refund",
        summary="Give an order's discounts back to the budgets",
        request=bodies.RefundIn,
        responses={(200, "application/json"): bodies.RefundedOut, **errors(*KEY_ERRORS, 415)},
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        query = self.valid(bodies.RefundIn, request.data)
        returned = checkout.refund(query["order"])
        return Response({"order": query["order"], "returned": str(returned)})
