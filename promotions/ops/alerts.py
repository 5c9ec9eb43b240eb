"""The admin index's alerts: a stale or missing model, a growing event backlog, a failed training,
dead-lettered events and a buffer Redis that may lose events.

Shown to staff who may view model versions, by ``{% promotions_ops_alerts %}`` (library
``promotions_ops``), which the admin index template includes.
"""

from __future__ import annotations

from typing import Any

from .health import run_checks

#: The checks whose failure a shop's staff can act on from the admin.
ALERT_CHECKS = ("buffer", "model", "training")


def admin_alerts(user: Any) -> list[str]:
    """One message per failing alert check and per warning, for a user allowed to see them (else none)."""
    if user is None or not user.has_perm("promotions.view_modelversion"):
        return []
    alerts = []
    for result in run_checks(ALERT_CHECKS):
        alerts += ([] if result.ok else [result.error]) + result.warnings
    return alerts
