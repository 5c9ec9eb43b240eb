"""The app's models, one module per concern; Django finds them all here."""

from .tracking.models import Event, EventType, Visitor

__all__ = ["Event", "EventType", "Visitor"]
