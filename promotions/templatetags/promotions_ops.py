"""``{% promotions_ops_alerts %}``: the operations alerts of ``promotions.ops.alerts`` (admin index)."""

from __future__ import annotations

from typing import Any

from django import template

from ..ops.alerts import admin_alerts

register = template.Library()


@register.inclusion_tag("promotions/ops/admin_alerts.html", takes_context=True)
def promotions_ops_alerts(context: template.Context) -> dict[str, Any]:
    request = context.get("request")
    return {"alerts": admin_alerts(getattr(request, "user", None))}
