"""The app's models, one module per concern; Django finds them all here."""

from .tracking.models import Event, EventType, Visitor
from .training.models import ModelVersion

__all__ = ["Event", "EventType", "ModelVersion", "Visitor"]
