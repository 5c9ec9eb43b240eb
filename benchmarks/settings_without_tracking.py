"""The demo shop's settings without the tracking middleware: the baseline of middleware_cost.py."""

from shop_demo.settings import *  # noqa: F403
from shop_demo.settings import MIDDLEWARE

MIDDLEWARE = [entry for entry in MIDDLEWARE if not entry.startswith("promotions.")]
SILENCED_SYSTEM_CHECKS = ["promotions.E001"]
