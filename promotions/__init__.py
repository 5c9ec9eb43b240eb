"""Personalized promotions for Django shops: tracking, recommenders, A/B experiments."""

__version__ = "0.1.0"


def track(request, event_type, **kwargs):
    """Record an event for the visitor of ``request`` (see ``promotions.tracking.capture.track``)."""
    from .tracking.capture import track as _track

    return _track(request, event_type, **kwargs)
