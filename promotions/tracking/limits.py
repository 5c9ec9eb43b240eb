"""The one set of limits every captured event is held to, and the flush's last check of a row.

Capture (``make_event``: the middleware, ``track()`` and the beacon) and the importer pass each
event through ``normalize_event`` once: text loses NUL and lone surrogates (PostgreSQL's text
and jsonb cannot hold them) and is cut to its column's length, numbers out of their column's
range are dropped, the JSON context is bounded in depth, size and content. The flush checks
each buffered row with ``row_problem`` and moves a row that still breaks a limit (an entry
written by older code, or by anything but this app) to the dead letters instead of storing it.
"""

from __future__ import annotations

import json
import math
import re
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from .models import Event

_field = Event._meta.get_field

#: Column lengths, read from the model so they cannot drift from the table.
EVENT_TYPE_LENGTH = _field("event_type").max_length
VISITOR_ID_LENGTH = _field("visitor_id").max_length
ITEM_ID_LENGTH = _field("item_id").max_length
QUERY_LENGTH = _field("query").max_length
KEY_LENGTH = _field("idempotency_key").max_length
#: The review is a text column; a longer review is a paste, not a review.
REVIEW_LENGTH = 10_000
#: A page path kept in the context (the beacon's ``page``, the middleware's path and referrer).
PATH_LENGTH = 200
#: Tokens a client may name (a recommendation id, a slot).
TOKEN_LENGTH = 64
#: The JSON context: strings cut to CONTEXT_STRING_LENGTH, keys to CONTEXT_KEY_LENGTH, at most
#: CONTEXT_ITEMS entries per object or list, nested CONTEXT_DEPTH deep, CONTEXT_BYTES in all.
CONTEXT_STRING_LENGTH = 200
CONTEXT_KEY_LENGTH = 64
CONTEXT_ITEMS = 50
CONTEXT_DEPTH = 4
CONTEXT_BYTES = 4096

# Integer columns: PostgreSQL's integer, smallint and bigint (the model's positive fields).
INT_MAX = 2**31 - 1
SMALLINT_MAX = 2**15 - 1
BIGINT_MAX = 2**63 - 1
# unit_price is DECIMAL(12, 4): below 10**8 in absolute value.
PRICE_LIMIT = Decimal(10) ** 8
_PRICE_STEP = Decimal("0.0001")

_TEXT_FIELDS = {"visitor_id": VISITOR_ID_LENGTH, "item_id": ITEM_ID_LENGTH, "query": QUERY_LENGTH,
                "review_text": REVIEW_LENGTH}  # fmt: skip
_INT_FIELDS = {"user_id": BIGINT_MAX, "promotion_id": BIGINT_MAX, "quantity": INT_MAX, "rating": SMALLINT_MAX,
               "result_count": INT_MAX}  # fmt: skip

# Lone surrogates: Python strings may hold them (JSON "\ud800", surrogateescape), UTF-8 cannot.
_SURROGATES = re.compile("[\ud800-\udfff]")


class InvalidEvent(ValueError):
    """An event without a field it cannot do without (type, visitor, time, key)."""


def clean_text(value: Any, length: int) -> str:
    """``value`` as text PostgreSQL can store: NUL and lone surrogates removed, cut to ``length``."""
    text = value if isinstance(value, str) else str(value)
    if "\x00" in text:
        text = text.replace("\x00", "")
    if not text.isascii():
        text = _SURROGATES.sub("", text)
    return text[:length]


def _bounded_int(value: Any, maximum: int) -> int | None:
    """A whole number from 0 to ``maximum`` (an int, digits, or a whole float or Decimal), else None."""
    if isinstance(value, bool):
        return None
    try:
        if isinstance(value, int):
            number = value
        elif isinstance(value, str) and value.strip().isdigit():
            number = int(value)
        elif isinstance(value, float | Decimal) and math.isfinite(value) and value == int(value):
            number = int(value)
        else:
            return None
    except (ValueError, OverflowError, InvalidOperation):
        return None
    return number if 0 <= number <= maximum else None


def _bounded_price(value: Any) -> Decimal | None:
    """A price DECIMAL(12, 4) holds, rounded to its four places, else None."""
    try:
        price = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
    except (InvalidOperation, ValueError, TypeError):
        return None
    if isinstance(value, bool) or not price.is_finite() or abs(price) >= PRICE_LIMIT:
        return None
    price = price.quantize(_PRICE_STEP)  # may round up to the limit itself
    return price if abs(price) < PRICE_LIMIT else None


def _bounded_seconds(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        seconds = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


def _bounded_json(value: Any, depth: int) -> Any:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value if abs(value) <= BIGINT_MAX else None  # jsonb holds more, but nothing reads such numbers
    if isinstance(value, float):
        return value if math.isfinite(value) else None  # NaN and Infinity are not JSON
    if isinstance(value, str):
        return clean_text(value, CONTEXT_STRING_LENGTH)
    if depth <= 0:
        return None
    if isinstance(value, dict):
        items = list(value.items())[:CONTEXT_ITEMS]
        return {clean_text(key, CONTEXT_KEY_LENGTH): _bounded_json(item, depth - 1) for key, item in items}
    if isinstance(value, list | tuple):
        return [_bounded_json(item, depth - 1) for item in list(value)[:CONTEXT_ITEMS]]
    return clean_text(value, CONTEXT_STRING_LENGTH)  # a Decimal, a date...: its text


def bounded_context(value: Any) -> dict[str, Any]:
    """The context as a JSON object within the limits; one over CONTEXT_BYTES keeps what fits."""
    if not isinstance(value, dict):
        return {}
    context = _bounded_json(value, CONTEXT_DEPTH)
    if len(json.dumps(context)) <= CONTEXT_BYTES:
        return context
    kept: dict[str, Any] = {}
    size = 2
    for key, item in context.items():
        size += len(json.dumps({key: item}))  # the entry, its separator and one brace: never less
        if size > CONTEXT_BYTES - 20:
            break
        kept[key] = item
    kept["truncated"] = True
    return kept


def normalize_event(event: dict[str, Any]) -> dict[str, Any]:
    """The event with every field within the limits (a new dict); raises InvalidEvent when a
    field it cannot do without is missing or unusable."""
    out = dict(event)
    for name in ("event_type", "visitor_id", "occurred_at", "idempotency_key"):
        if not out.get(name):
            raise InvalidEvent(f"An event needs a {name}.")
    out["event_type"] = clean_text(out["event_type"], EVENT_TYPE_LENGTH)
    out["idempotency_key"] = clean_text(out["idempotency_key"], KEY_LENGTH)
    if not isinstance(out["occurred_at"], datetime):
        raise InvalidEvent("An event's occurred_at must be a datetime.")
    for name, length in _TEXT_FIELDS.items():
        if out.get(name) is not None:
            out[name] = clean_text(out[name], length)
    for name, maximum in _INT_FIELDS.items():
        if out.get(name) is not None:
            out[name] = _bounded_int(out[name], maximum)
    if out.get("unit_price") is not None:
        out["unit_price"] = _bounded_price(out["unit_price"])
    if out.get("dwell_seconds") is not None:
        out["dwell_seconds"] = _bounded_seconds(out["dwell_seconds"])
    if "context" in out:
        out["context"] = bounded_context(out["context"])
    return out


def _text_problem(name: str, value: Any, length: int, required: bool = False) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str):
        return f"{name} is not text"
    if required and not value:
        return f"{name} is empty"
    if len(value) > length:
        return f"{name} is longer than {length} characters"
    if "\x00" in value:
        return f"{name} holds a NUL character"
    if not value.isascii() and _SURROGATES.search(value):
        return f"{name} holds a lone surrogate"
    return None


def _json_problem(value: Any, depth: int = CONTEXT_DEPTH + 1) -> str | None:
    if isinstance(value, str):
        return _text_problem("context", value, CONTEXT_BYTES)
    if isinstance(value, float) and not math.isfinite(value):
        return "context holds NaN or Infinity"
    if isinstance(value, dict | list):
        if depth <= 0:
            return "context is nested too deeply"
        items = value.items() if isinstance(value, dict) else ((None, item) for item in value)
        for key, item in items:
            problem = _json_problem(key, depth) if key is not None else None
            problem = problem or _json_problem(item, depth - 1)
            if problem:
                return problem
    return None


def row_problem(row: Any, columns: tuple[str, ...]) -> str | None:
    """Why the buffered row (a list in ``columns`` order) cannot be stored, or None when it can."""
    if not isinstance(row, list) or len(row) != len(columns):
        return f"not a row of {len(columns)} columns"
    get = dict(zip(columns, row, strict=True)).get
    for name, length, required in (
        ("event_type", EVENT_TYPE_LENGTH, True),
        ("visitor_id", VISITOR_ID_LENGTH, True),
        ("idempotency_key", KEY_LENGTH, True),
        ("occurred_at", 64, True),
        ("item_id", ITEM_ID_LENGTH, False),
        ("query", QUERY_LENGTH, False),
        ("review_text", REVIEW_LENGTH, False),
        ("unit_price", 40, False),
        ("context", CONTEXT_BYTES, True),
    ):
        problem = _text_problem(name, get(name), length, required)
        if problem:
            return problem
    for name, maximum in _INT_FIELDS.items():
        value = get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= maximum):
            return f"{name} is not an integer from 0 to {maximum}"
    seconds = get("dwell_seconds")
    if seconds is not None and (
        isinstance(seconds, bool) or not isinstance(seconds, int | float) or not math.isfinite(seconds) or seconds < 0
    ):
        return "dwell_seconds is not a finite number of seconds"
    if get("unit_price") is not None and _bounded_price(get("unit_price")) is None:
        return "unit_price is not a price DECIMAL(12, 4) holds"
    try:
        datetime.fromisoformat(get("occurred_at"))
    except ValueError:
        return "occurred_at is not an ISO 8601 time"
    try:
        context = json.loads(get("context"))
    except ValueError:
        return "context is not JSON"
    if not isinstance(context, dict):
        return "context is not a JSON object"
    return _json_problem(context)
