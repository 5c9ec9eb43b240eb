"""API keys for server-to-server calls: scoped, rate-limited, revocable, stored hashed.

A key reads ``pk_<prefix>.<secret>``: the prefix (public, indexed) finds the row, the secret (32
random bytes) is checked against its SHA-256, which is all that is stored. A key's high entropy
makes a slow password hash unnecessary, and SHA-256 keeps the check well under a millisecond.
The full key is shown once, when it is created (``ApiKey.objects.issue()`` or the admin).

Checked keys are kept per process for ``KEY_CACHE_SECONDS``: a key revoked (or its scopes
changed) in another process stops working there within that time, at once in this one.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework.throttling import SimpleRateThrottle

#: Scopes a key may hold (the names the answers, the schema and the docs use).
READ = "read"
EVENTS = "events"
BASKETS = "baskets"
ORDERS = "orders"
SCOPES = {
    READ: _("read recommendations and promotions"),
    EVENTS: _("write events"),
    BASKETS: _("price baskets"),
    ORDERS: _("redeem and refund orders"),
}
KEY_PREFIX = "pk_"
KEY_CACHE_SECONDS = 5.0
#: last_used_at is written at most this often per key and process (a write per request would cost
#: every call a database round trip).
LAST_USED_SECONDS = 60.0
DEFAULT_RATE = "600/min"


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def validate_rate(value: str) -> None:
    from django.core.exceptions import ValidationError

    try:
        count, duration = SimpleRateThrottle.parse_rate(None, value)
    except (ValueError, KeyError, IndexError, AttributeError):
        count = duration = None
    if not count or count <= 0 or not duration:
        raise ValidationError(_("Write a rate as requests/period, e.g. 600/min (periods: s, min, hour, day)."))


class ApiKeyManager(models.Manager):
    def issue(self, name: str, scopes: list[str], rate: str = DEFAULT_RATE, **fields: Any) -> tuple[ApiKey, str]:
        """Create a key; returns it and the full key text, which is not stored and shown only now."""
        key = self.model(name=name, rate=rate, **fields)
        key.set_scopes(scopes)
        text = key.new_secret()
        key.save()
        return key, text


class ApiKey(models.Model):
    """A key a shop's servers (a headless front end, a cart service) call the API with."""

    name = models.CharField(_("name"), max_length=100, help_text=_("Who uses the key, e.g. 'storefront (Next.js)'."))
    prefix = models.CharField(_("prefix"), max_length=16, unique=True, editable=False)
    secret_hash = models.CharField(_("secret hash"), max_length=64, editable=False)
    can_read = models.BooleanField(_("read recommendations and promotions"), default=False)
    can_write_events = models.BooleanField(_("write events"), default=False)
    can_price_baskets = models.BooleanField(_("price baskets"), default=False)
    can_redeem_orders = models.BooleanField(_("redeem and refund orders"), default=False)
    rate = models.CharField(
        _("rate limit"),
        max_length=20,
        default=DEFAULT_RATE,
        validators=[validate_rate],
        help_text=_("Requests per period for this key, e.g. 600/min or 20/s."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
        editable=False,
    )
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True, editable=False)

    objects = ApiKeyManager()

    class Meta:
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix})"

    @property
    def scopes(self) -> list[str]:
        flags = {
            READ: self.can_read,
            EVENTS: self.can_write_events,
            BASKETS: self.can_price_baskets,
            ORDERS: self.can_redeem_orders,
        }
        return [scope for scope, held in flags.items() if held]

    def set_scopes(self, scopes: list[str]) -> None:
        unknown = set(scopes) - set(SCOPES)
        if unknown:
            raise ValueError(f"Unknown scopes {sorted(unknown)}; known: {sorted(SCOPES)}.")
        self.can_read, self.can_write_events, self.can_price_baskets, self.can_redeem_orders = (
            scope in scopes for scope in (READ, EVENTS, BASKETS, ORDERS)
        )

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def new_secret(self) -> str:
        """Give the key a new prefix and secret; returns the full key text (not stored)."""
        self.prefix = KEY_PREFIX + secrets.token_hex(6)
        secret = secrets.token_urlsafe(32)
        self.secret_hash = _digest(secret)
        return f"{self.prefix}.{secret}"

    def revoke(self) -> None:
        if self.revoked_at is None:
            self.revoked_at = timezone.now()
            self.save(update_fields=["revoked_at"])
        forget_key(self.prefix)


# prefix -> (time read, the key or None for an unknown prefix)
_checked: dict[str, tuple[float, ApiKey | None]] = {}
_last_used: dict[str, float] = {}
_lock = threading.Lock()


def forget_key(prefix: str | None = None, **kwargs: Any) -> None:
    """Drop one key (or all of them) from this process's memory."""
    with _lock:
        if prefix is None:
            _checked.clear()
            _last_used.clear()
        else:
            _checked.pop(prefix, None)


def forget_saved_key(sender: Any, instance: ApiKey, **kwargs: Any) -> None:
    """Receiver of key saves and deletes: this process checks the key again at once."""
    forget_key(instance.prefix)


def find_key(text: str) -> ApiKey | None:
    """The active key whose full text is ``text``, else None (unknown, wrong secret, revoked)."""
    prefix, dot, secret = text.partition(".")
    if not dot or not prefix.startswith(KEY_PREFIX) or len(prefix) > 16 or not secret or len(secret) > 128:
        return None
    now = time.monotonic()
    entry = _checked.get(prefix)
    if entry is None or now - entry[0] > KEY_CACHE_SECONDS:
        key = ApiKey.objects.filter(prefix=prefix).first()
        with _lock:
            if len(_checked) > 10_000:
                _checked.clear()
            _checked[prefix] = entry = (now, key)
    key = entry[1]
    if key is None or not key.active or not hmac.compare_digest(key.secret_hash, _digest(secret)):
        return None
    return key


def touch(key: ApiKey) -> None:
    """Record that the key was used now (at most every ``LAST_USED_SECONDS`` per process)."""
    now = time.monotonic()
    if now - _last_used.get(key.prefix, -LAST_USED_SECONDS) < LAST_USED_SECONDS:
        return
    _last_used[key.prefix] = now
    used = timezone.now()
    ApiKey.objects.filter(pk=key.pk).update(last_used_at=used)
    key.last_used_at = used
