"""The app's models, one module per concern; Django finds them all here."""

from .api.keys import ApiKey
from .campaigns.models import Campaign, Recipient, Unsubscribe
from .experiments.models import Assignment, Experiment, Variant
from .offers.models import CouponCode, Promotion, Redemption, SlotRule
from .tracking.models import DeadLetterEvent, Event, EventType, Visitor
from .training.models import ModelPromotion, ModelVersion
from .uplift.records import UpliftReport

__all__ = [
    "ApiKey",
    "Assignment",
    "Campaign",
    "CouponCode",
    "DeadLetterEvent",
    "Event",
    "EventType",
    "Experiment",
    "ModelPromotion",
    "ModelVersion",
    "Promotion",
    "Recipient",
    "Redemption",
    "SlotRule",
    "Unsubscribe",
    "UpliftReport",
    "Variant",
    "Visitor",
]
