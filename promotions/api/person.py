"""The person an API call names (a user id, a visitor id, or only an explicit history), as the
request serving already knows how to answer.

Serving decides from a request: its user, its tracking state (the visitor id), its recent items.
``person_request`` builds that request for the named person, so the API runs exactly the code the
template tags run, with the same hash units for experiments (``user:<id>`` / ``visitor:<id>``) and
the holdout (the visitor id, or the first visitor linked to the account): an API consumer and the
shop's pages agree on what one person gets.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, QueryDict

from ..serving.decide import BANDIT, DEFAULT, Decision, slot_config
from ..tracking.capture import TrackingState
from ..visitors.keys import user_person_id
from ..visitors.prefetch import remember_value, visitor_values
from ..visitors.recent import RECENT_CACHE_NAME, RECENT_LENGTH

#: Request headers the person's request keeps (a segment or targeting may read them); cookies and
#: the key itself are left behind.
DROPPED_META = ("HTTP_COOKIE", "HTTP_AUTHORIZATION")
#: The visitor-id prefix of an anonymous session known only by its history.
SESSION_PREFIX = "h:"


def visitor_for(user_id: int | None, visitor_id: str | None, history: Sequence[str] = ()) -> str:
    """The visitor id serving and events use: the one given, else ``u:<user id>``, else one made
    from the history (an anonymous session's answers are cached under it for a minute)."""
    if visitor_id:
        return visitor_id
    if user_id is not None:
        return user_person_id(user_id)
    digest = hashlib.sha256("\x1f".join(history).encode()).hexdigest()
    return SESSION_PREFIX + digest[:32]


def person_request(
    api_request: HttpRequest,
    *,
    user: Any = None,
    visitor_id: str | None = None,
    history: Sequence[str] = (),
    slot: str | None = None,
) -> HttpRequest:
    """A request of the named person: ``user`` (a user instance) and/or ``visitor_id``; with
    neither, an anonymous session whose only knowledge is ``history`` (served personalized by the
    history, outside experiments and the holdout: there is no unit to assign)."""
    request = HttpRequest()
    request.method = "GET"
    request.path = request.path_info = api_request.path
    request.META = {name: value for name, value in api_request.META.items() if name not in DROPPED_META}
    request.GET = QueryDict()
    request.COOKIES = {}
    request.session = {}
    request.user = user if user is not None else AnonymousUser()
    visitor = visitor_for(getattr(user, "pk", None), visitor_id, history)
    request.visitor_id = visitor
    request.promotions = TrackingState(allowed=True, visitor_id=visitor)
    if user is None and not visitor_id and slot is not None:
        config = slot_config(slot)
        step = BANDIT if config is not None and config.bandit else DEFAULT
        request.__dict__["_promotions_decisions"] = {slot: Decision(step, personalized=True, slot_config=config)}
        request.__dict__["_promotions_holdout"] = False
    if history:
        with_history(request, history)
    return request


def with_history(request: HttpRequest, history: Sequence[str]) -> None:
    """Serve ``request`` as if its visitor had just touched ``history`` (oldest first), after what
    they touched before."""
    stored = [] if request.visitor_id.startswith(SESSION_PREFIX) else None
    if stored is None:
        stored = visitor_values(request, [RECENT_CACHE_NAME])[RECENT_CACHE_NAME] or []
    now = time.time()
    merged = [entry for entry in stored if entry[0] not in set(history)]
    merged += [[item_id, now] for item_id in dict.fromkeys(history)]
    remember_value(request, RECENT_CACHE_NAME, merged[-RECENT_LENGTH:])


#: Users read by the API, kept per process for ``USER_SECONDS`` (a read names the same customers
#: again and again; an account's changes reach serving within that time).
USER_SECONDS = 30.0
_users: dict[int, tuple[float, Any]] = {}


def load_user(user_id: int) -> Any:
    """The user with primary key ``user_id``, or None."""
    now = time.monotonic()
    entry = _users.get(user_id)
    if entry is None or now - entry[0] > USER_SECONDS:
        if len(_users) > 10_000:
            _users.clear()
        entry = _users[user_id] = (now, get_user_model()._default_manager.filter(pk=user_id).first())
    return entry[1]


def forget_users(*args: Any, **kwargs: Any) -> None:
    _users.clear()


def user_stub(user_id: int) -> Any:
    """An unsaved user with only its primary key, for events (no query; an unknown id is stored
    without the user, as the buffer does for a deleted account)."""
    return get_user_model()(pk=user_id)
