"""Export and erasure of everything the app holds about one person (data subject requests).

A person is found from a user id, an e-mail address or one visitor id (a cookie id or an
imported customer id) with :func:`find_person`. Their identities are every ``Visitor`` row
linked to the user plus the visitor id given (and ``ext:<id>`` for an imported customer id).

Each kind of data is a *section* in a registry. This module registers:

``events``
    Stored events under any of the identities or the user, every field (timestamps in
    ISO 8601, decimals as strings).
``buffered_events``
    Events still waiting in the Redis buffer (``PROMOTIONS["REDIS_URL"]``) for the flush task.
``visitors``
    The person's ``Visitor`` rows (identities).
``cache``
    Per-person values in Django's cache under ``promotions:visitor:<visitor id>:<name>`` and
    ``promotions:user:<user id>:<name>``. Code that caches per-person data builds its keys with
    :func:`visitor_cache_key` / :func:`user_cache_key`; every name is declared with its lifetime
    in :mod:`promotions.tracking.personcache` and registered in ``AppConfig.ready()``, so an
    erasure in any process (a management command too) finds it; with django-redis every key
    under the prefixes is found whether declared or not.

Other modules plug in their own tables (experiment assignments, redemptions, trained models)
with :func:`register_person_data`, also from ``ready()``. Training reads only the event log, so
once a person's events are erased the next training forgets them.

The shop's user account itself is never deleted: the shop owns it and deletes it with its
own tools (deleting the user also nulls it on events, but leaves them under the visitor ids).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from ..conf import app_settings
from ..visitors.keys import USER_CACHE_PREFIX, VISITOR_CACHE_PREFIX, user_cache_key, visitor_cache_key  # noqa: F401 - their old home, still importable
from . import buffer
from .models import DeadLetterEvent, Event, Visitor
from .personcache import PersonCacheName

#: Identifies the layout of :func:`export_person`'s result; bumped when it changes.
EXPORT_FORMAT = "promotions.person-data"
EXPORT_VERSION = 1
#: Stream entries read per round trip while scanning the Redis buffer.
BUFFER_SCAN_COUNT = 1000
#: Cache keys read or deleted per round trip during export and erasure.
CACHE_CHUNK = 500


class PersonDataError(Exception):
    """A data request that cannot be carried out; the message is one line for the operator."""


class PersonNotFound(PersonDataError):
    """No person, or more than one, matches what was given."""


class BufferUnavailable(PersonDataError):
    """The Redis buffer could not be read or changed, so an erasure would be incomplete."""


@dataclass(frozen=True)
class Person:
    """One data subject: a shop user (or None for an anonymous visitor) and their visitor ids."""

    user: Any
    visitor_ids: tuple[str, ...]

    @property
    def user_id(self) -> int | None:
        return None if self.user is None else self.user.pk

    def events(self) -> models.QuerySet:
        """Their stored events: under any of their visitor ids, or recorded for their user."""
        matches = Q(visitor_id__in=self.visitor_ids)
        if self.user is not None:
            matches |= Q(user_id=self.user.pk)
        return Event.objects.filter(matches)

    def visitors(self) -> models.QuerySet:
        matches = Q(key__in=self.visitor_ids)
        if self.user is not None:
            matches |= Q(user_id=self.user.pk)
        return Visitor.objects.filter(matches)


# --- The registry -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Section:
    name: str
    exporter: Callable[[Person], Any]
    eraser: Callable[[Person], int]
    #: The models whose rows about the person this section exports and erases.
    tables: tuple[type[models.Model], ...] = ()


_sections: dict[str, Section] = {}


def register_person_data(
    name: str,
    exporter: Callable[[Person], Any],
    eraser: Callable[[Person], int],
    tables: Iterable[type[models.Model]] = (),
) -> None:
    """Add a section of personal data to every export and erasure.

    ``exporter(person)`` returns JSON-ready data (a list of rows, typically), shown under
    ``sections[name]`` in the export; ``eraser(person)`` deletes it and returns how many
    records it deleted. Erasers run inside one database transaction, in reverse order of
    registration, so a section added later (which may refer to identities) goes before the
    built-in ones. Registering a name again replaces the section. ``tables`` names the tables
    whose rows about the person the section covers (a test checks that every table of the app
    with a visitor or user column is covered). Call it from ``AppConfig.ready()``.
    """
    _sections[name] = Section(name, exporter, eraser, tuple(tables))


def covered_models() -> set[type[models.Model]]:
    """The models some registered section exports and erases."""
    return {model for section in _sections.values() for model in section.tables}


def unregister_person_data(name: str) -> None:
    _sections.pop(name, None)


def registered_sections() -> list[str]:
    return list(_sections)


# --- Finding a person -------------------------------------------------------------------------


def find_person(*, user: int | str | None = None, email: str | None = None, visitor: str | None = None) -> Person:
    """The person named by exactly one of a user id, an e-mail address or a visitor/customer id.

    Raises PersonNotFound (with a one-line message) for an unknown person, an e-mail address
    shared by several users, or a selector count other than one.
    """
    given = [value for value in (user, email, visitor) if value not in (None, "")]
    if len(given) != 1:
        raise PersonNotFound(_("Give exactly one of a user id, an e-mail address or a visitor id."))
    if visitor not in (None, ""):
        return _person_from_visitor(str(visitor))
    account = _user_by_id(user) if user not in (None, "") else _user_by_email(str(email))
    return Person(account, _linked_visitor_ids(account))


def _user_by_id(user_id: int | str) -> Any:
    model = get_user_model()
    try:
        return model.objects.get(pk=int(user_id))
    except (ValueError, TypeError):
        raise PersonNotFound(_("The user id must be a number, not %(value)r.") % {"value": user_id}) from None
    except model.DoesNotExist:
        raise PersonNotFound(_("There is no user with id %(id)s.") % {"id": user_id}) from None


def _user_by_email(address: str) -> Any:
    model = get_user_model()
    users = list(
        model.objects.filter(**{f"{model.get_email_field_name()}__iexact": address.strip()}).order_by("pk")[:10]
    )
    if not users:
        raise PersonNotFound(_("There is no user with the e-mail address %(email)s.") % {"email": address})
    if len(users) > 1:
        ids = ", ".join(str(account.pk) for account in users)
        raise PersonNotFound(
            _("Several users have the e-mail address %(email)s (ids %(ids)s); choose one by user id.")
            % {"email": address, "ids": ids}
        )
    return users[0]


def _linked_visitor_ids(account: Any) -> tuple[str, ...]:
    return tuple(sorted(Visitor.objects.filter(user=account).values_list("key", flat=True)))


def _person_from_visitor(value: str) -> Person:
    """The owner of a cookie id or of an imported customer id (given with or without ``ext:``)."""
    candidates = [value] if value.startswith("ext:") else [value, Visitor.external_key(value)]
    rows = list(Visitor.objects.filter(key__in=candidates).select_related("user"))
    known = {row.key for row in rows}
    known |= set(Event.objects.filter(visitor_id__in=candidates).values_list("visitor_id", flat=True).distinct())
    known |= {event["visitor_id"] for _id, event in _buffered_entries(Person(None, tuple(candidates)), strict=False)}
    if not known:
        raise PersonNotFound(_("There is no visitor or customer with id %(id)s.") % {"id": value})
    owners = {row.user for row in rows if row.user is not None}
    if len(owners) > 1:
        raise PersonNotFound(
            _("The ids %(ids)s belong to different users; choose one by user id.") % {"ids": ", ".join(sorted(known))}
        )
    owner = owners.pop() if owners else None
    linked = _linked_visitor_ids(owner) if owner is not None else ()
    return Person(owner, tuple(sorted(known | set(linked))))


# --- Export and erasure -----------------------------------------------------------------------


def export_person(person: Person) -> dict[str, Any]:
    """Everything the app holds about one person, ready for ``json.dumps``.

    Keys: ``format`` and ``version`` (this layout), ``exported_at`` (ISO 8601), ``user``
    (``{"id", "username", "email"}``, or None for an anonymous visitor), ``identities`` (their
    visitor ids) and ``sections``: one entry per registered section (``events``,
    ``buffered_events``, ``visitors``, ``cache`` and any added with register_person_data).
    """
    return {
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION,
        "exported_at": timezone.now().isoformat(),
        "user": _user_summary(person.user),
        "identities": list(person.visitor_ids),
        "sections": {section.name: section.exporter(person) for section in list(_sections.values())},
    }


def erase_person(person: Person) -> dict[str, int]:
    """Delete everything the app holds about one person; returns records deleted per section.

    Their events (stored and still buffered in Redis), identities, cached values and every
    registered section go at once, in one database transaction: the next training no longer
    sees them. The user account is kept (the shop owns it). A Redis buffer that cannot be
    reached raises BufferUnavailable and rolls the database back, so nothing is half-erased
    there. Erasing while the flush task runs can miss an event the flush had already read;
    erasing again removes it (erasure is idempotent).
    """
    counts: dict[str, int] = {}
    with transaction.atomic():
        for section in reversed(list(_sections.values())):
            counts[section.name] = section.eraser(person)
    return {name: counts[name] for name in _sections}


def _user_summary(account: Any) -> dict[str, Any] | None:
    if account is None:
        return None
    return {
        "id": account.pk,
        "username": account.get_username(),
        "email": getattr(account, account.get_email_field_name(), ""),
    }


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _row(instance: models.Model) -> dict[str, Any]:
    """Every column of a row, foreign keys as their ``*_id``."""
    return {field.attname: _json_value(getattr(instance, field.attname)) for field in instance._meta.concrete_fields}


# --- Built-in sections: events and identities -------------------------------------------------


def _export_events(person: Person) -> list[dict[str, Any]]:
    return [_row(event) for event in person.events().order_by("occurred_at", "pk").iterator()]


def _erase_events(person: Person) -> int:
    return person.events().delete()[0]


def _export_visitors(person: Person) -> list[dict[str, Any]]:
    return [_row(visitor) for visitor in person.visitors().order_by("key")]


def _erase_visitors(person: Person) -> int:
    # Counted before deleting: rows of other apps may cascade from a visitor.
    count = person.visitors().count()
    person.visitors().delete()
    return count


# --- Built-in section: the Redis buffer -------------------------------------------------------


def _matches(person: Person, event: dict[str, Any]) -> bool:
    return event.get("visitor_id") in person.visitor_ids or (
        person.user_id is not None and event.get("user_id") == person.user_id
    )


def _buffered_entries(person: Person, strict: bool = True) -> Iterator[tuple[bytes, dict[str, Any]]]:
    """(stream id, event) of the person's events waiting in the buffer, oldest first.

    With ``strict`` a Redis failure raises BufferUnavailable; without, it ends the scan
    (finding a person should not depend on Redis being up; erasing them must).
    """
    client = buffer.redis_client()
    if client is None:
        return
    import redis

    start = "-"
    try:
        while True:
            chunk = client.xrange(app_settings.EVENT_STREAM, min=start, max="+", count=BUFFER_SCAN_COUNT)
            for message_id, fields in chunk:
                event = buffer.event_from_row(buffer.decode_entry(fields)) if fields else {}
                if _matches(person, event):
                    yield message_id, event
            if len(chunk) < BUFFER_SCAN_COUNT:
                return
            start = b"(" + chunk[-1][0]  # exclusive: continue after the last entry read
    except redis.RedisError as exc:
        if strict:
            raise BufferUnavailable(_("The Redis event buffer is unavailable: %(error)s") % {"error": exc}) from exc


def _export_buffered(person: Person) -> list[dict[str, Any]]:
    return [{"stream_id": message_id.decode(), **event} for message_id, event in _buffered_entries(person)]


def _erase_buffered(person: Person) -> int:
    ids = [message_id for message_id, _event in _buffered_entries(person)]
    if not ids:
        return 0
    import redis

    client = buffer.redis_client()
    try:
        # Acknowledged too, so a flush worker that had already read them forgets them.
        client.xack(app_settings.EVENT_STREAM, buffer.GROUP, *ids)
        return int(client.xdel(app_settings.EVENT_STREAM, *ids))
    except redis.RedisError as exc:
        raise BufferUnavailable(_("The Redis event buffer is unavailable: %(error)s") % {"error": exc}) from exc


# --- Built-in section: dead-lettered events ---------------------------------------------------


def _dead_letter_owner(payload: str) -> tuple[Any, Any]:
    """(visitor id, user id) of a dead letter's payload (a buffer row or an event), or (None, None)."""
    try:
        entry = json.loads(payload)
    except ValueError:
        return None, None
    if isinstance(entry, list) and len(entry) == len(buffer.COLUMNS):
        entry = dict(zip(buffer.COLUMNS, entry, strict=True))
    if not isinstance(entry, dict):
        return None, None
    return entry.get("visitor_id"), entry.get("user_id")


def _dead_letters(person: Person) -> list[DeadLetterEvent]:
    """Their dead letters: by the payload's visitor or user id, or (a payload that is not JSON) any
    of their visitor ids in its text. Dead letters are few (each one is an alarm), so all are read."""
    found = []
    for letter in DeadLetterEvent.objects.order_by("pk").iterator():
        visitor_id, user_id = _dead_letter_owner(letter.payload)
        if visitor_id is None and user_id is None:
            mine = any(visitor_id in letter.payload for visitor_id in person.visitor_ids)
        else:
            mine = visitor_id in person.visitor_ids or (user_id is not None and str(user_id) == str(person.user_id))
        if mine:
            found.append(letter)
    return found


def _export_dead_letters(person: Person) -> list[dict[str, Any]]:
    return [_row(letter) for letter in _dead_letters(person)]


def _erase_dead_letters(person: Person) -> int:
    return DeadLetterEvent.objects.filter(pk__in=[letter.pk for letter in _dead_letters(person)]).delete()[0]


# --- Built-in section: Django's cache ---------------------------------------------------------

#: Declared per-person entries by name (``personcache.DECLARED``, registered in ``ready()``).
_cache_names: dict[str, PersonCacheName] = {}


def register_person_cache_name(entry: PersonCacheName) -> None:
    """Declare a per-person cache entry (or name template), so export and erasure find it on any
    cache backend. Called from ``AppConfig.ready()``; registering a name again replaces it."""
    _cache_names[entry.name] = entry


def register_person_cache_key(name: str, timeout: int | None = None) -> None:
    """Declare a shop's own per-person cache entry (a plain name); call it from ``ready()``."""
    register_person_cache_name(PersonCacheName(name, timeout, ""))


def registered_cache_names() -> list[PersonCacheName]:
    return list(_cache_names.values())


def _live_cache_names() -> list[str]:
    """Every concrete name the declarations stand for today (templates expanded)."""
    today = timezone.localdate()
    return list(dict.fromkeys(name for entry in list(_cache_names.values()) for name in entry.names(today)))


def _cache_prefixes(person: Person) -> list[str]:
    prefixes = [VISITOR_CACHE_PREFIX.format(visitor_id=visitor_id) for visitor_id in person.visitor_ids]
    if person.user_id is not None:
        prefixes.append(USER_CACHE_PREFIX.format(user_id=person.user_id))
    return prefixes


def _cache_keys(person: Person) -> list[str]:
    """The person's cache keys: declared names, plus every key under their prefixes where the
    backend can list keys (django-redis)."""
    keys = {prefix + name for prefix in _cache_prefixes(person) for name in _live_cache_names()}
    if hasattr(cache, "iter_keys"):
        for prefix in _cache_prefixes(person):
            keys.update(cache.iter_keys(re.sub(r"([*?\[\]\\])", r"\\\1", prefix) + "*"))
    return sorted(keys)


def _cached_values(person: Person) -> dict[str, Any]:
    """The person's entries that exist. Asked in chunks: the declared names expand to a few keys
    per promotion and day, and a database cache sends each chunk as one query's parameters."""
    keys = _cache_keys(person)
    values: dict[str, Any] = {}
    for start in range(0, len(keys), CACHE_CHUNK):
        values.update(cache.get_many(keys[start : start + CACHE_CHUNK]))
    return values


def _export_cache(person: Person) -> dict[str, Any]:
    values = _cached_values(person)
    # Cached values may be any Python object; a round trip through JSON keeps them readable.
    return json.loads(json.dumps(values, default=_json_fallback))


def _json_fallback(value: Any) -> Any:
    converted = _json_value(value)
    return repr(value) if converted is value else converted


def _erase_cache(person: Person) -> int:
    found = list(_cached_values(person))
    for start in range(0, len(found), CACHE_CHUNK):
        cache.delete_many(found[start : start + CACHE_CHUNK])
    return len(found)


def register_builtin_sections() -> None:
    """Register the sections of this module; called by ``PromotionsConfig.ready()`` first.

    Registration order is the order of an export; erasure runs it backwards, so the buffer is
    emptied before the stored events go and a Redis failure rolls back the database.
    """
    register_person_data("events", _export_events, _erase_events, [Event])
    register_person_data("buffered_events", _export_buffered, _erase_buffered)
    register_person_data("visitors", _export_visitors, _erase_visitors, [Visitor])
    register_person_data("dead_letters", _export_dead_letters, _erase_dead_letters, [DeadLetterEvent])
    register_person_data("cache", _export_cache, _erase_cache)
