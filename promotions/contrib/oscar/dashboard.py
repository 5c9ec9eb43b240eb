"""The app's screens in Oscar's dashboard menu: ``OSCAR_DASHBOARD_NAVIGATION += [PROMOTIONS_DASHBOARD_MENU]``.

The screens are the app's admin pages; an entry shows only to staff who may view its model
(the admin checks the same permission again on the page). Imported from settings: no models here.
"""

from __future__ import annotations

from typing import Any

from django.urls import resolve, reverse
from django.utils.translation import gettext_lazy as _


def can_view(user: Any, url_name: str | None, url_args: Any = None, url_kwargs: Any = None) -> bool:
    """Oscar's ``access_fn``: staff with the view or change permission of the page's model."""
    if url_name is None:  # a heading: shown when one of its entries is
        return True
    if not (user.is_active and user.is_staff):
        return False
    model_admin = resolve(reverse(url_name, args=url_args, kwargs=url_kwargs)).func.model_admin
    opts = model_admin.model._meta
    return user.has_perm(f"{opts.app_label}.view_{opts.model_name}") or user.has_perm(
        f"{opts.app_label}.change_{opts.model_name}"
    )


def _entry(label: Any, model: str) -> dict[str, Any]:
    return {"label": label, "url_name": f"admin:promotions_{model}_changelist", "access_fn": can_view}


PROMOTIONS_DASHBOARD_MENU: dict[str, Any] = {
    "label": _("Personalization"),
    "icon": "fas fa-magic",
    "access_fn": can_view,
    "children": [
        _entry(_("Promotions"), "promotion"),
        _entry(_("Redemptions"), "redemption"),
        _entry(_("Experiments"), "experiment"),
        _entry(_("Models"), "modelversion"),
        _entry(_("Uplift reports"), "upliftreport"),
        _entry(_("Events"), "event"),
    ],
}
