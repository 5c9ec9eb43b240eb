"""System checks of the Oscar integration: the settings docs/oscar.md asks for."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, register

from ...conf import app_settings

MIDDLEWARE_PATH = "promotions.contrib.oscar.middleware.OscarPromotionsMiddleware"
ADAPTER_PATH = "promotions.contrib.oscar.products.OscarProductAdapter"
TRACKING_MIDDLEWARE = "promotions.tracking.middleware.TrackingMiddleware"


@register(Tags.compatibility)
def check_oscar_settings(app_configs: Any = None, **kwargs: Any) -> list:
    errors = []
    middleware = list(getattr(settings, "MIDDLEWARE", []) or [])
    if MIDDLEWARE_PATH not in middleware:
        errors.append(
            Error(
                f"'{MIDDLEWARE_PATH}' is not in MIDDLEWARE: basket changes, search counts, the app's codes in "
                "Oscar's voucher form and the check before payment are missing.",
                hint=f"Add it after '{TRACKING_MIDDLEWARE}' (docs/oscar.md).",
                id="promotions_oscar.E001",
            )
        )
    elif TRACKING_MIDDLEWARE in middleware and middleware.index(MIDDLEWARE_PATH) < middleware.index(
        TRACKING_MIDDLEWARE
    ):
        errors.append(
            Error(f"'{MIDDLEWARE_PATH}' must come after '{TRACKING_MIDDLEWARE}'.", id="promotions_oscar.E001")
        )
    if app_settings.PRODUCT_ADAPTER != ADAPTER_PATH:
        errors.append(
            Error(
                "PROMOTIONS['PRODUCT_ADAPTER'] is not the Oscar adapter: Oscar's prices, stock and categories are "
                "not read.",
                hint=f"Set it to '{ADAPTER_PATH}'.",
                id="promotions_oscar.E002",
            )
        )
    if app_settings.product_model != "catalogue.Product":
        errors.append(
            Error("PROMOTIONS_PRODUCT_MODEL must be 'catalogue.Product' in an Oscar shop.", id="promotions_oscar.E003")
        )
    return errors
