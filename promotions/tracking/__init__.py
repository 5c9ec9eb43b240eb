"""Behavior tracking: visitor identity and the events every model learns from.

Public helpers: ``track``, ``tracks_product_view``, ``set_search_results``,
``register_event_type``.
"""

from .capture import register_event_type, set_search_results, track, tracks_product_view

__all__ = ["register_event_type", "set_search_results", "track", "tracks_product_view"]
