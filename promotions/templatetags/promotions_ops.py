"""Admin index tags: ``{% promotions_ops_alerts %}``, the operations alerts of
``promotions.ops.alerts``, and ``{% promotions_admin_reports %}``, links to the reports the
signed-in staff member may open (what personalization earns, the experiments)."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse
from django.utils.translation import gettext as _

from ..ops.alerts import admin_alerts

register = template.Library()


@register.inclusion_tag("promotions/ops/admin_alerts.html", takes_context=True)
def promotions_ops_alerts(context: template.Context) -> dict[str, Any]:
    request = context.get("request")
    return {"alerts": admin_alerts(getattr(request, "user", None))}


@register.inclusion_tag("promotions/ops/admin_reports.html", takes_context=True)
def promotions_admin_reports(context: template.Context) -> dict[str, Any]:
    user = getattr(context.get("request"), "user", None)
    links = []
    if user is not None and user.has_perm("promotions.view_promotion_figures"):
        links.append((reverse("admin:promotions_promotion_lift"), _("What personalization earns"), "lift"))
    if user is not None and user.has_perm("promotions.view_experiment"):
        experiments = reverse("admin:promotions_experiment_changelist")
        links.append((experiments, _("Experiments and their results"), "experiments"))
    return {"links": links}
