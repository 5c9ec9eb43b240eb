"""The app's models, one module per concern; Django finds them all here."""

from .experiments.models import Assignment, Experiment, Variant
from .tracking.models import Event, EventType, Visitor
from .training.models import ModelVersion

__all__ = ["Assignment", "Event", "EventType", "Experiment", "ModelVersion", "Variant", "Visitor"]
