"""What the key-authenticated API reads and answers: query parameters and bodies, validated field by
field (an unknown field, a value out of range or a missing person is a 400 with field errors)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from ..tracking.capture import is_known_event_type
from ..tracking.limits import ITEM_ID_LENGTH, QUERY_LENGTH, REVIEW_LENGTH, TOKEN_LENGTH, VISITOR_ID_LENGTH
from ..tracking.models import EventType
from .content import SlotField
from .serializers import StrictSerializer, token

MAX_K = 50
MAX_HISTORY = 20
MAX_EXCLUDED = 50
MAX_LINES = 100
MAX_CODES = 5
#: Events in one batch, and the body's size.
MAX_EVENTS = 500
MAX_EVENT_BYTES = 1024 * 1024
#: How far ahead of the server's clock an event's time may be (clock skew).
FUTURE_SKEW = timedelta(minutes=5)
MONEY = {"max_digits": 12, "decimal_places": 2, "min_value": 0, "max_value": 10**8 - 1}
_ITEM = re.compile(r"^[^,\x00-\x1f]+$")

#: Types only the app itself writes (a campaign click comes through its signed link, so that a
#: campaign's measured lift cannot be forged); everything else the shop may send (its own, once
#: registered).
INTERNAL_TYPES = frozenset({EventType.BANDIT_PICK, EventType.UPLIFT_ASSIGNMENT, EventType.CAMPAIGN_CLICK})
ITEM_TYPES = frozenset(
    {
        EventType.VIEW,
        EventType.ADD_TO_CART,
        EventType.REMOVE_FROM_CART,
        EventType.RATING,
        EventType.REVIEW,
        EventType.DWELL,
        EventType.RECOMMENDATION_IMPRESSION,
        EventType.RECOMMENDATION_CLICK,
    }
)
PROMOTION_TYPES = frozenset({EventType.PROMOTION_IMPRESSION, EventType.PROMOTION_CLICK})


def item_list(value: str, limit: int, name: str) -> list[str]:
    """A comma-separated list of product ids, each within the id length, at most ``limit``."""
    items = [item.strip() for item in value.split(",") if item.strip()]
    if len(items) > limit:
        raise serializers.ValidationError(_("At most %(limit)d product ids.") % {"limit": limit})
    if any(len(item) > ITEM_ID_LENGTH or not _ITEM.match(item) for item in items):
        raise serializers.ValidationError(
            _("Product ids are up to %(length)d characters, without control characters.") % {"length": ITEM_ID_LENGTH}
        )
    return items


class PersonSerializer(StrictSerializer):
    """Who the answer is for: a user id and/or a visitor id (at least one where ``person_required``)."""

    person_required = True

    user = serializers.IntegerField(
        required=False, min_value=1, max_value=2**63 - 1, help_text=_("The shop's user id (a Django user's key).")
    )
    visitor = serializers.CharField(
        required=False,
        max_length=VISITOR_ID_LENGTH,
        validators=[token],
        help_text=_("The visitor id: the tracking cookie's, or any stable id your front end keeps."),
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        if self.person_required and "user" not in attrs and "visitor" not in attrs and not attrs.get("history"):
            raise serializers.ValidationError(_("Name the person: user, visitor or history."))
        return attrs


class RecommendationsQuery(PersonSerializer):
    history = serializers.CharField(
        required=False,
        max_length=MAX_HISTORY * (ITEM_ID_LENGTH + 1),
        help_text=_("Comma-separated product ids the person touched, oldest first (an anonymous session)."),
    )
    k = serializers.IntegerField(required=False, default=8, min_value=1, max_value=MAX_K)
    slot = SlotField(required=False, default="home", max_length=64)
    exclude = serializers.CharField(
        required=False, max_length=MAX_EXCLUDED * (ITEM_ID_LENGTH + 1), help_text=_("Comma-separated product ids.")
    )
    category = serializers.CharField(required=False, max_length=100, help_text=_("Only products of this category."))

    def validate_history(self, value: str) -> list[str]:
        return item_list(value, MAX_HISTORY, "history")

    def validate_exclude(self, value: str) -> list[str]:
        return item_list(value, MAX_EXCLUDED, "exclude")


class SimilarQuery(StrictSerializer):
    item = serializers.CharField(max_length=ITEM_ID_LENGTH, help_text=_("The product's public id."))
    k = serializers.IntegerField(required=False, default=6, min_value=1, max_value=MAX_K)
    slot = SlotField(required=False, default="product", max_length=64)


class PromotionsQuery(PersonSerializer):
    slot = SlotField(required=False, default="home", max_length=64)
    limit = serializers.IntegerField(required=False, default=3, min_value=1, max_value=24)


# --- Answers (for the schema; the views build plain dicts) -------------------------------------


class ReasonOut(serializers.Serializer):
    kind = serializers.CharField(help_text=_("Where the product comes from: model, trending, similar, pinned..."))
    item = serializers.CharField(allow_null=True, help_text=_("The product the reason names, if any."))
    category = serializers.CharField(allow_null=True, help_text=_("The category the reason names, if any."))
    text = serializers.CharField(allow_blank=True, help_text=_("The reason, rendered in the request's language."))


class ProductOut(serializers.Serializer):
    id = serializers.CharField()
    title = serializers.CharField()
    url = serializers.CharField()
    price = serializers.DecimalField(max_digits=12, decimal_places=2, coerce_to_string=True)
    category = serializers.CharField()


class PickOut(ProductOut):
    score = serializers.FloatField()
    source = serializers.CharField(help_text=_("model, trending, similar or best_sellers."))
    reason = ReasonOut()


class VariantOut(serializers.Serializer):
    experiment = serializers.CharField()
    variant = serializers.CharField()


class ServedFields(serializers.Serializer):
    recommendation_id = serializers.CharField(
        help_text=_("Send it back with impression, click and purchase events for attribution.")
    )
    model_version = serializers.IntegerField(allow_null=True, help_text=_("The model version that served."))


class DecisionFields(ServedFields):
    slot = serializers.CharField()
    decision = serializers.CharField(help_text=_("not_tracked, holdout, experiment, bandit or default."))
    personalized = serializers.BooleanField()
    variant = VariantOut(allow_null=True)


class RecommendationsOut(DecisionFields):
    results = PickOut(many=True)


class SimilarOut(ServedFields):
    item = serializers.CharField()
    results = PickOut(many=True)


class PromotionOut(serializers.Serializer):
    id = serializers.IntegerField()
    message = serializers.CharField()
    kind = serializers.CharField()
    value = serializers.DecimalField(max_digits=12, decimal_places=2, coerce_to_string=True)
    coupon_required = serializers.BooleanField()
    reason = ReasonOut()
    personalized = serializers.BooleanField()
    products = ProductOut(many=True)


class PromotionsOut(DecisionFields):
    results = PromotionOut(many=True)


# --- Events ----------------------------------------------------------------------------------


class LineIn(StrictSerializer):
    product = serializers.CharField(max_length=ITEM_ID_LENGTH)
    quantity = serializers.IntegerField(min_value=1, max_value=10**6)
    price = serializers.DecimalField(help_text=_("The unit price paid."), **MONEY)


class EventIn(PersonSerializer):
    """One thing the person did, under an id of the client's that makes re-sending harmless."""

    id = serializers.CharField(
        max_length=TOKEN_LENGTH,
        validators=[token],
        help_text=_("Unique per event across the shop (a uuid): an event sent again is stored once."),
    )
    type = serializers.CharField(
        max_length=32,
        help_text=_(
            "view, search, add_to_cart, remove_from_cart, purchase, rating, review, dwell, "
            "promotion_impression, promotion_click, recommendation_impression, recommendation_click, "
            "or a type the shop registered."
        ),
    )
    occurred_at = serializers.DateTimeField(required=False, help_text=_("Defaults to the time it is received."))
    product = serializers.CharField(required=False, max_length=ITEM_ID_LENGTH)
    quantity = serializers.IntegerField(required=False, min_value=1, max_value=10**6)
    price = serializers.DecimalField(required=False, help_text=_("The unit price."), **MONEY)
    lines = LineIn(many=True, required=False, allow_empty=False, max_length=MAX_LINES)
    order = serializers.CharField(required=False, max_length=TOKEN_LENGTH, validators=[token])
    query = serializers.CharField(required=False, max_length=QUERY_LENGTH)
    result_count = serializers.IntegerField(required=False, min_value=0, max_value=2**31 - 1)
    rating = serializers.IntegerField(required=False, min_value=1, max_value=5)
    review = serializers.CharField(required=False, max_length=REVIEW_LENGTH)
    dwell_seconds = serializers.FloatField(required=False, min_value=0, max_value=24 * 3600)
    promotion = serializers.IntegerField(required=False, min_value=1, max_value=2**63 - 1)
    recommendation_id = serializers.CharField(required=False, max_length=TOKEN_LENGTH, validators=[token])
    slot = serializers.CharField(required=False, max_length=TOKEN_LENGTH, validators=[token])

    def validate_type(self, value: str) -> str:
        if value in INTERNAL_TYPES or not is_known_event_type(value):
            raise serializers.ValidationError(
                _("Unknown event type %(type)s; a shop registers its own with register_event_type().") % {"type": value}
            )
        return value

    def validate_occurred_at(self, value: Any) -> Any:
        if value > timezone.now() + FUTURE_SKEW:
            raise serializers.ValidationError(_("This time is in the future."))
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "user" not in attrs and "visitor" not in attrs:
            raise serializers.ValidationError(_("Name the person: user or visitor."))
        kind = attrs["type"]
        needed = []
        if kind in ITEM_TYPES:
            needed.append("product")
        if kind == EventType.SEARCH:
            needed.append("query")
        if kind == EventType.RATING:
            needed.append("rating")
        if kind == EventType.REVIEW:
            needed.append("review")
        if kind == EventType.DWELL:
            needed.append("dwell_seconds")
        if kind in PROMOTION_TYPES:
            needed.append("promotion")
        if kind == EventType.PURCHASE and "lines" not in attrs:
            needed += ["product", "quantity", "price"]
        message = _("This field is required for %(type)s events.") % {"type": kind}
        errors = {name: [message] for name in needed if name not in attrs}
        if "lines" in attrs and kind != EventType.PURCHASE:
            errors["lines"] = [_("Only purchases carry lines.")]
        if "lines" in attrs and "product" in attrs:
            errors["product"] = [_("Send either lines or one product.")]
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class EventBatchIn(StrictSerializer):
    """Checked as a whole first (a malformed batch is a 400); each event then on its own."""

    events = serializers.ListField(
        child=serializers.JSONField(), allow_empty=False, max_length=MAX_EVENTS, help_text=_("The events, see Event.")
    )


class EventBatchSchema(serializers.Serializer):
    """A batch of events: a malformed batch is refused whole, then each event is checked on its own."""

    events = EventIn(many=True, allow_empty=False, max_length=MAX_EVENTS)


class RejectedOut(serializers.Serializer):
    index = serializers.IntegerField()
    id = serializers.CharField(allow_null=True)
    errors = serializers.DictField()


class EventsOut(serializers.Serializer):
    accepted = serializers.IntegerField(help_text=_("Events stored (a re-sent one only once)."))
    rejected = RejectedOut(many=True)


# --- Baskets ---------------------------------------------------------------------------------


class BasketLineIn(StrictSerializer):
    product = serializers.CharField(max_length=ITEM_ID_LENGTH)
    quantity = serializers.IntegerField(min_value=1, max_value=10**6)
    price = serializers.DecimalField(
        required=False, help_text=_("The unit price charged; read from the catalogue when left out."), **MONEY
    )


class BasketIn(PersonSerializer):
    person_required = False

    email = serializers.EmailField(required=False, max_length=254, help_text=_("For uses-per-customer limits."))
    lines = BasketLineIn(many=True, allow_empty=False, max_length=MAX_LINES)
    codes = serializers.ListField(
        child=serializers.CharField(max_length=64), required=False, max_length=MAX_CODES, default=list
    )
    shipping = serializers.DecimalField(required=False, default=0, **MONEY)


class RedeemIn(BasketIn):
    quote = serializers.CharField(max_length=4096, help_text=_("The quote the price answer gave."))
    order = serializers.CharField(max_length=64, validators=[token], help_text=_("The shop's order id."))


class RefundIn(StrictSerializer):
    order = serializers.CharField(max_length=64, validators=[token])


class PricedLineOut(serializers.Serializer):
    product = serializers.CharField()
    quantity = serializers.IntegerField()
    unit_price = serializers.DecimalField(max_digits=14, decimal_places=4, coerce_to_string=True)
    discount = serializers.DecimalField(max_digits=14, decimal_places=4, coerce_to_string=True)
    total = serializers.DecimalField(max_digits=14, decimal_places=4, coerce_to_string=True)


class AppliedOut(serializers.Serializer):
    promotion = serializers.IntegerField()
    name = serializers.CharField()
    message = serializers.CharField()
    code = serializers.CharField()
    amount = serializers.DecimalField(max_digits=14, decimal_places=4, coerce_to_string=True)
    shipping_amount = serializers.DecimalField(max_digits=14, decimal_places=4, coerce_to_string=True)


class NotAppliedOut(serializers.Serializer):
    promotion = serializers.IntegerField(allow_null=True)
    name = serializers.CharField()
    code = serializers.CharField()
    reason = serializers.CharField()
    message = serializers.CharField()


class PricedBasketOut(serializers.Serializer):
    lines = PricedLineOut(many=True)
    subtotal = serializers.DecimalField(max_digits=14, decimal_places=4, coerce_to_string=True)
    discount = serializers.DecimalField(max_digits=14, decimal_places=4, coerce_to_string=True)
    shipping = serializers.DecimalField(max_digits=14, decimal_places=4, coerce_to_string=True)
    shipping_discount = serializers.DecimalField(max_digits=14, decimal_places=4, coerce_to_string=True)
    total = serializers.DecimalField(max_digits=14, decimal_places=4, coerce_to_string=True)
    applied = AppliedOut(many=True)
    not_applied = NotAppliedOut(many=True)
    codes = serializers.ListField(child=serializers.CharField())
    quote = serializers.CharField(help_text=_("Pass it to redeem: the order is charged exactly this."))


class RedemptionOut(serializers.Serializer):
    promotion = serializers.IntegerField()
    code = serializers.CharField(allow_null=True)
    discount = serializers.DecimalField(max_digits=14, decimal_places=4, coerce_to_string=True)


class RedeemedOut(serializers.Serializer):
    order = serializers.CharField()
    redemptions = RedemptionOut(many=True)


class RedeemRefusedOut(serializers.Serializer):
    detail = serializers.CharField()
    reason = serializers.CharField()
    basket = PricedBasketOut(allow_null=True)


class RefundedOut(serializers.Serializer):
    order = serializers.CharField()
    returned = serializers.DecimalField(max_digits=14, decimal_places=4, coerce_to_string=True)
