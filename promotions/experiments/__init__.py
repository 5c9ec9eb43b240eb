"""A/B experiments. ``variant_for`` is imported lazily: the pure modules load without Django."""

from __future__ import annotations

from typing import Any


def variant_for(request: Any, key: str) -> Any:
    """See :func:`promotions.experiments.service.variant_for`."""
    from .service import variant_for as resolve

    return resolve(request, key)
