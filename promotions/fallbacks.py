"""Structured log lines for every fallback a page took, on one logger: ``promotions.fallback``.

Each line is logfmt (``event=fallback reason=redis_down path=/product/1/``), readable by people
and by log shippers alike; the same fields travel in the record's ``fallback`` attribute for a
JSON formatter. Values are quoted and escaped, so request data in the context cannot forge a
second log line.
"""

from __future__ import annotations

import logging
import re
from typing import Any

logger = logging.getLogger("promotions.fallback")

_BARE_VALUE = re.compile(r"[A-Za-z0-9_.:/@+-]+")
_KEY_CHARACTERS = re.compile(r"[^A-Za-z0-9_.-]")


def _value(value: Any) -> str:
    if value is None:
        return '""'
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    if _BARE_VALUE.fullmatch(text):
        return text
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    # Control characters (a newline above all) are written as escapes: one event, one line.
    escaped = "".join(char if char.isprintable() else char.encode("unicode_escape").decode() for char in escaped)
    return f'"{escaped}"'


def logfmt(fields: dict[str, Any]) -> str:
    """``key=value`` pairs in the given order; keys are reduced to ``[A-Za-z0-9_.-]``."""
    return " ".join(f"{_KEY_CHARACTERS.sub('_', str(key)) or '_'}={_value(value)}" for key, value in fields.items())


def log_fallback(reason: str, /, *, request: Any = None, level: int = logging.WARNING, **context: Any) -> None:
    """Log that a page served a fallback: ``reason`` (a short slug), the request's method and
    path when given, and any context (``component="promotion_tags"``, ``error=exc``...)."""
    fields: dict[str, Any] = {"event": "fallback", "reason": reason}
    if request is not None:
        fields["method"] = getattr(request, "method", None)
        fields["path"] = getattr(request, "path", None)
    fields.update(context)
    if logger.isEnabledFor(level):
        logger.log(level, "%s", logfmt(fields), extra={"fallback": fields})
