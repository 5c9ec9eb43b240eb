"""Tags of the demo's templates: ``{% load shop %}``."""

from __future__ import annotations

from django import template

from shop_demo.catalog.names import category_name, category_url

register = template.Library()

register.filter("category_url", category_url)
register.filter("category_name", category_name)
