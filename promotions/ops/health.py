"""The health checks: database, cache, broker, the Redis event buffer, the active model, training.

Each check is cheap (one round trip or one query, short timeouts) because load balancers and
Prometheus call them every few seconds, and each is isolated: an exception fails that check
only. ``run_checks()`` is what the health endpoint, the metrics endpoint and the admin's alerts
share.
"""

from __future__ import annotations

import os
import secrets
import socket
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.db import connections
from django.utils import timezone
from django.utils.translation import gettext as _

from ..conf import app_settings

# Seconds a network check may take before it counts as failed.
TIMEOUT = 1.0


@dataclass
class CheckResult:
    """One check: whether it passed, what it measured, and why it failed."""

    name: str
    ok: bool
    seconds: float = 0.0
    figures: dict[str, Any] = field(default_factory=dict)
    error: str = ""

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"ok": self.ok, "seconds": round(self.seconds, 6), **self.figures}
        if self.error:
            data["error"] = self.error
        return data


class CheckFailed(Exception):
    """A check ran and found a problem; its message says what, and its figures were measured."""

    def __init__(self, message: str, figures: dict[str, Any] | None = None):
        super().__init__(message)
        self.figures = figures or {}


def check_database() -> dict[str, Any]:
    for alias in settings.DATABASES:
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT 1")
    return {"databases": len(settings.DATABASES)}


def check_cache() -> dict[str, Any]:
    # A value written and read back: a cache that swallows its errors (django-redis with
    # IGNORE_EXCEPTIONS) answers a miss instead of raising, which is a failure all the same.
    cache = caches["default"]
    key = f"promotions:ops:health:{socket.gethostname()}-{os.getpid()}"
    value = secrets.token_hex(8)
    cache.set(key, value, timeout=60)
    if cache.get(key) != value:
        raise CheckFailed(_("The cache did not return the value just written to it."))
    return {}


def check_broker() -> dict[str, Any]:
    from celery import current_app

    with current_app.connection_for_write(connect_timeout=TIMEOUT) as connection:
        connection.connect()  # kombu's Redis transport pings the server here
        return {"transport": getattr(connection.transport, "driver_type", "")}


def check_buffer() -> dict[str, Any]:
    """Events waiting in Redis, and how long the oldest has waited (stream ids carry milliseconds)."""
    from ..tracking import buffer

    client = buffer.redis_client()
    if client is None:
        return {"backend": "database", "backlog": 0, "oldest_age_seconds": 0.0}
    pipe = client.pipeline(transaction=False)
    pipe.xlen(app_settings.EVENT_STREAM)
    pipe.xrange(app_settings.EVENT_STREAM, count=1)
    backlog, first = pipe.execute()
    oldest_age = 0.0
    if first:
        milliseconds = int(first[0][0].split(b"-")[0])
        oldest_age = max(0.0, time.time() - milliseconds / 1000)
    figures = {"backend": "redis", "backlog": int(backlog), "oldest_age_seconds": round(oldest_age, 3)}
    if backlog > app_settings.OPS_BACKLOG_MAX_EVENTS:
        raise CheckFailed(
            _("%(count)d events wait in the buffer (limit %(limit)d): the flush task is not keeping up.")
            % {"count": backlog, "limit": app_settings.OPS_BACKLOG_MAX_EVENTS},
            figures,
        )
    if oldest_age > app_settings.OPS_BACKLOG_MAX_AGE:
        raise CheckFailed(
            _("The oldest buffered event has waited %(seconds)d s (limit %(limit)d s): is the worker running?")
            % {"seconds": oldest_age, "limit": app_settings.OPS_BACKLOG_MAX_AGE},
            figures,
        )
    return figures


def check_model() -> dict[str, Any]:
    from ..training.versions import active_version

    version = active_version()
    if version is None:
        raise CheckFailed(_("No model is active: promotions are not personalized."), {"version": None})
    trained_at = version.finished_at or version.created_at
    age = (timezone.now() - trained_at).total_seconds()
    figures = {"version": version.pk, "model": version.model_name, "age_seconds": round(age, 1)}
    if age > app_settings.OPS_MODEL_MAX_AGE:
        raise CheckFailed(
            _("The active model was trained %(hours)d hours ago (limit %(limit)d hours): training does not run.")
            % {"hours": age // 3600, "limit": app_settings.OPS_MODEL_MAX_AGE // 3600},
            figures,
        )
    return figures


def check_training() -> dict[str, Any]:
    from ..training.models import ModelVersion

    last = ModelVersion.objects.exclude(status=ModelVersion.Status.TRAINING).order_by("-created_at", "-pk").first()
    if last is None:
        return {"last_status": None}
    figures = {"last_status": "failed" if last.status == ModelVersion.Status.FAILED else "succeeded"}
    if last.status == ModelVersion.Status.FAILED:
        # A traceback's last line names the exception.
        last_line = (last.error.strip().splitlines() or [""])[-1][:200]
        raise CheckFailed(
            _("The last training (version %(id)s) failed: %(error)s") % {"id": last.pk, "error": last_line}, figures
        )
    return figures


#: Every check by name, in the order they are reported.
CHECKS: dict[str, Callable[[], dict[str, Any]]] = {
    "database": check_database,
    "cache": check_cache,
    "broker": check_broker,
    "buffer": check_buffer,
    "model": check_model,
    "training": check_training,
}


def run_check(name: str) -> CheckResult:
    started = time.perf_counter()
    try:
        figures = CHECKS[name]()
    except CheckFailed as failure:
        return CheckResult(name, False, time.perf_counter() - started, failure.figures, str(failure))
    except Exception as exc:  # a service down: the check fails, the others still run
        message = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
        return CheckResult(name, False, time.perf_counter() - started, {}, message)
    return CheckResult(name, True, time.perf_counter() - started, figures)


def run_checks(names: Iterable[str] | None = None) -> list[CheckResult]:
    """The named checks (all by default), each isolated from the others' failures."""
    return [run_check(name) for name in (CHECKS if names is None else names)]
