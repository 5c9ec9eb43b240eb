"""The health figures in Prometheus' text exposition format (version 0.0.4), written by hand:
a handful of gauges do not justify a dependency, and nothing here is kept between scrapes."""

from __future__ import annotations

import math
from collections.abc import Iterable

from .health import CheckResult

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

# name -> (help text, the check and figure it comes from; None: the check's own pass/fail)
_FIGURES = {
    "promotions_event_buffer_backlog": ("Events waiting in the Redis event buffer.", "buffer", "backlog"),
    "promotions_event_buffer_oldest_age_seconds": (
        "Seconds the oldest buffered event has waited.",
        "buffer",
        "oldest_age_seconds",
    ),
    "promotions_event_dead_letters": (
        "Buffered events the flush could not store, waiting in the dead letters.",
        "buffer",
        "dead_letters",
    ),
    "promotions_model_age_seconds": ("Seconds since the active model finished training.", "model", "age_seconds"),
    "promotions_model_active_version": ("Id of the active model version.", "model", "version"),
}


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _number(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(float(value)) if not float(value).is_integer() else str(int(value))


def _family(name: str, help_text: str, samples: Iterable[tuple[dict[str, str], float]]) -> list[str]:
    lines = [f"# HELP {name} {help_text}", f"# TYPE {name} gauge"]
    for labels, value in samples:
        rendered = ",".join(f'{key}="{_label(label)}"' for key, label in labels.items())
        lines.append(f"{name}{{{rendered}}} {_number(value)}" if rendered else f"{name} {_number(value)}")
    return lines


def render(results: list[CheckResult]) -> str:
    """The exposition text for these check results; a figure a failed check could not measure is left out."""
    by_name = {result.name: result for result in results}
    lines = _family(
        "promotions_health_up", "1 when every health check passed, else 0.", [({}, all(r.ok for r in results))]
    )
    lines += _family(
        "promotions_check_up",
        "1 when the health check passed, else 0.",
        [({"check": result.name}, result.ok) for result in results],
    )
    lines += _family(
        "promotions_check_duration_seconds",
        "Seconds the health check took.",
        [({"check": result.name}, result.seconds) for result in results],
    )
    lines += _family(
        "promotions_check_warnings",
        "Warnings the health check raised (it may pass with them).",
        [({"check": result.name}, len(result.warnings)) for result in results],
    )
    for name, (help_text, check, figure) in _FIGURES.items():
        value = by_name[check].figures.get(figure) if check in by_name else None
        if isinstance(value, int | float) and not isinstance(value, bool):
            lines += _family(name, help_text, [({}, value)])
    training = by_name.get("training")
    if training is not None and training.figures.get("last_status") is not None:
        failed = training.figures["last_status"] == "failed"
        lines += _family("promotions_training_last_failed", "1 when the last finished training failed.", [({}, failed)])
    return "\n".join(lines) + "\n"
