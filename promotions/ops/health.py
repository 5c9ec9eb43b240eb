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
from django.db import DatabaseError, connections
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
    #: What passed but needs a look (dead-lettered events, a buffer Redis that may lose events).
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"ok": self.ok, "seconds": round(self.seconds, 6), **self.figures}
        if self.error:
            data["error"] = self.error
        if self.warnings:
            data["warnings"] = self.warnings
        return data


class CheckFailed(Exception):
    """A check ran and found a problem; its message says what, and its figures were measured."""

    def __init__(self, message: str, figures: dict[str, Any] | None = None, warnings: list[str] | None = None):
        super().__init__(message)
        self.figures = figures or {}
        self.warnings = warnings or []


#: A check's figures may carry this key: warnings that do not fail it (run_check moves them out).
WARNINGS = "warnings"


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


#: The Redis settings under which a buffered event survives a crash of Redis: an append-only
#: file written at least every second, and no eviction of the stream when memory runs out.
DURABLE_REDIS = {"appendonly": {"yes"}, "appendfsync": {"always", "everysec"}, "maxmemory-policy": {"noeviction"}}
# A flush failing this long (it runs every 10 s) while events wait is a stall, however young they are.
FLUSH_STALL_SECONDS = 60


def buffer_durability(client: Any) -> list[str]:
    """Warnings about the buffer Redis's persistence; "unknown" when it refuses CONFIG GET
    (managed services often do): then the operator must check the settings themselves."""
    pipe = client.pipeline(transaction=False)
    for name in DURABLE_REDIS:
        pipe.config_get(name)
    answers = pipe.execute(raise_on_error=False)
    warnings = []
    for (name, wanted), answer in zip(DURABLE_REDIS.items(), answers, strict=True):
        if isinstance(answer, Exception) or name not in answer:
            return [
                _("The buffer Redis's durability is unknown (CONFIG GET refused): make sure it runs with "
                  "appendonly yes, appendfsync everysec and maxmemory-policy noeviction.")
            ]  # fmt: skip
        value = answer[name]
        value = value.decode() if isinstance(value, bytes) else str(value)
        if value not in wanted:
            warnings.append(
                _("The buffer Redis has %(name)s %(value)s (needs %(wanted)s): accepted events can be lost.")
                % {"name": name, "value": value, "wanted": " or ".join(sorted(wanted))}
            )
    return warnings


def dead_letter_figures() -> tuple[dict[str, Any], list[str]]:
    from ..tracking.deadletters import summary

    try:
        dead = summary()
    except DatabaseError:  # the database check reports it; the buffer is fine without the count
        return {"dead_letters": None}, []
    figures = {"dead_letters": dead["count"]}
    if not dead["count"]:
        return figures, []
    warning = _(
        "%(count)d events could not be stored and wait in the dead letters (oldest %(when)s): "
        "see Dead-lettered events in the admin."
    ) % {"count": dead["count"], "when": timezone.localtime(dead["oldest"]).strftime("%Y-%m-%d %H:%M")}
    return figures, [warning]


def check_buffer() -> dict[str, Any]:
    """Events waiting in Redis, how long the oldest has waited (stream ids carry milliseconds),
    whether the flush runs or fails, events dead-lettered, and the buffer Redis's durability."""
    from ..tracking import buffer

    figures, warnings = dead_letter_figures()
    client = buffer.redis_client()
    if client is None:
        return {"backend": "database", "backlog": 0, "oldest_age_seconds": 0.0, **figures, WARNINGS: warnings}
    pipe = client.pipeline(transaction=False)
    pipe.xlen(app_settings.EVENT_STREAM)
    pipe.xrange(app_settings.EVENT_STREAM, count=1)
    pipe.hgetall(buffer.flush_state_key())
    backlog, first, state = pipe.execute()
    now = time.time()
    oldest_age = 0.0
    if first:
        milliseconds = int(first[0][0].split(b"-")[0])
        oldest_age = max(0.0, now - milliseconds / 1000)
    state = buffer.flush_state(state)
    figures.update(backend="redis", backlog=int(backlog), oldest_age_seconds=round(oldest_age, 3))
    figures["last_flush_age_seconds"] = None if state["ok_at"] is None else round(max(0.0, now - state["ok_at"]), 3)
    warnings += buffer_durability(client)
    failing_since = _flush_failing_since(state)
    if backlog and failing_since is not None and now - failing_since > FLUSH_STALL_SECONDS:
        raise CheckFailed(
            _("The flush task fails (for %(seconds)d s, %(count)d events waiting): %(error)s")
            % {"seconds": now - failing_since, "count": backlog, "error": state["error"]},
            figures,
            warnings,
        )
    if backlog > app_settings.OPS_BACKLOG_MAX_EVENTS:
        raise CheckFailed(
            _("%(count)d events wait in the buffer (limit %(limit)d): the flush task is not keeping up.")
            % {"count": backlog, "limit": app_settings.OPS_BACKLOG_MAX_EVENTS},
            figures,
            warnings,
        )
    if oldest_age > app_settings.OPS_BACKLOG_MAX_AGE:
        raise CheckFailed(_stalled_message(oldest_age, state, now), figures, warnings)
    return {**figures, WARNINGS: warnings}


def _flush_failing_since(state: dict[str, Any]) -> float | None:
    """Since when the flush has failed without a success in between (None when its last run succeeded)."""
    if state["error_at"] is None or (state["ok_at"] is not None and state["ok_at"] >= state["error_at"]):
        return None
    return state["ok_at"] or state["error_at"]


def _stalled_message(oldest_age: float, state: dict[str, Any], now: float) -> str:
    """Why the oldest event waits: the flush failing (with its error), no flush at all, or one too slow."""
    values = {"seconds": oldest_age, "limit": app_settings.OPS_BACKLOG_MAX_AGE}
    if _flush_failing_since(state) is not None:
        return _(
            "The oldest buffered event has waited %(seconds)d s (limit %(limit)d s): the flush task fails: %(error)s"
        ) % {**values, "error": state["error"]}
    if state["ok_at"] is None:
        return (
            _(
                "The oldest buffered event has waited %(seconds)d s (limit %(limit)d s) and no flush has ever "
                "succeeded: is the Celery worker with beat running?"
            )
            % values
        )
    if now - state["ok_at"] > FLUSH_STALL_SECONDS:
        return _(
            "The oldest buffered event has waited %(seconds)d s (limit %(limit)d s) and the last flush succeeded "
            "%(idle)d s ago: is the Celery worker with beat running?"
        ) % {**values, "idle": now - state["ok_at"]}
    return (
        _(
            "The oldest buffered event has waited %(seconds)d s (limit %(limit)d s) although the flush runs: "
            "it does not keep up, or an entry stays pending."
        )
        % values
    )


def missing_model_warnings() -> list[str]:
    """One line per model that an experiment variant or ``SERVED_MODELS`` names but no training stored."""
    from ..training.servable import missing_models

    return [
        _(
            "Model %(model)s is named by %(where)s but has no trained version: best sellers are served "
            "there instead until a training run stores it."
        )
        % {"model": name, "where": "; ".join(where)}
        for name, where in missing_models().items()
    ]


def check_model() -> dict[str, Any]:
    from ..training.versions import active_version

    warnings = missing_model_warnings()
    version = active_version()
    if version is None:
        raise CheckFailed(_("No model is active: promotions are not personalized."), {"version": None}, warnings)
    trained_at = version.finished_at or version.created_at
    age = (timezone.now() - trained_at).total_seconds()
    figures = {"version": version.pk, "model": version.model_name, "age_seconds": round(age, 1)}
    if age > app_settings.OPS_MODEL_MAX_AGE:
        raise CheckFailed(
            _("The active model was trained %(hours)d hours ago (limit %(limit)d hours): training does not run.")
            % {"hours": age // 3600, "limit": app_settings.OPS_MODEL_MAX_AGE // 3600},
            figures,
            warnings,
        )
    return {**figures, WARNINGS: warnings}


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
        return CheckResult(
            name, False, time.perf_counter() - started, failure.figures, str(failure), list(failure.warnings)
        )
    except Exception as exc:  # a service down: the check fails, the others still run
        message = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
        return CheckResult(name, False, time.perf_counter() - started, {}, message)
    warnings = list(figures.pop(WARNINGS, []))
    return CheckResult(name, True, time.perf_counter() - started, figures, warnings=warnings)


def run_checks(names: Iterable[str] | None = None) -> list[CheckResult]:
    """The named checks (all by default), each isolated from the others' failures."""
    return [run_check(name) for name in (CHECKS if names is None else names)]
