"""How the app sees a shop's products, whatever their model looks like.

The product model is swappable (``PROMOTIONS_PRODUCT_MODEL``); the adapter reads the
attributes the app needs (id, title, category, brand, price, cost, availability, text)
through ``PROMOTIONS["PRODUCT_FIELDS"]``. A shop whose products need more than attribute
look-ups subclasses ``ProductAdapter`` and names it in ``PROMOTIONS["PRODUCT_ADAPTER"]``.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.apps import apps
from django.db import models

from .conf import app_settings


@dataclass(frozen=True)
class ProductInfo:
    """What the recommenders and the promotion ranking know of one product."""

    id: str
    title: str
    category: str
    brand: str
    price: Decimal
    cost: Decimal | None
    available: bool
    text: str


def get_product_model() -> type[models.Model]:
    """The model named by ``PROMOTIONS_PRODUCT_MODEL`` (like ``get_user_model()``)."""
    return apps.get_model(app_settings.product_model, require_ready=False)


def resolve_path(obj: Any, path: str) -> Any:
    """Follow a dotted attribute path ("category.name"); None as soon as a step is None."""
    for part in path.split("."):
        if obj is None:
            return None
        obj = getattr(obj, part)
    return obj() if callable(obj) else obj


class ProductAdapter:
    """Reads product attributes by the paths in ``PROMOTIONS["PRODUCT_FIELDS"]``."""

    #: Whether ``PROMOTIONS["PRODUCT_FIELDS"]`` is read (the system checks test its paths then).
    uses_product_fields = True

    def __init__(self, fields: dict[str, str | None] | None = None):
        self.fields = fields if fields is not None else app_settings.PRODUCT_FIELDS

    @property
    def model(self) -> type[models.Model]:
        return get_product_model()

    def _get(self, product: Any, name: str) -> Any:
        path = self.fields.get(name)
        return resolve_path(product, path) if path else None

    def get_id(self, product: Any) -> str:
        return str(self._get(product, "id"))

    def get_price(self, product: Any) -> Decimal:
        return Decimal(str(self._get(product, "price")))

    def get_cost(self, product: Any) -> Decimal | None:
        cost = self._get(product, "cost")
        return None if cost is None else Decimal(str(cost))

    def is_available(self, product: Any) -> bool:
        # A shop that does not track stock has every product available.
        return True if not self.fields.get("available") else bool(self._get(product, "available"))

    def info(self, product: Any) -> ProductInfo:
        title = str(self._get(product, "title") or "")
        return ProductInfo(
            id=self.get_id(product),
            title=title,
            category=str(self._get(product, "category") or ""),
            brand=str(self._get(product, "brand") or ""),
            price=self.get_price(product),
            cost=self.get_cost(product),
            available=self.is_available(product),
            text=str(self._get(product, "text") or title),
        )

    def get_url(self, product: Any) -> str:
        """The product page's address (``get_absolute_url()`` when the model has one)."""
        return product.get_absolute_url() if hasattr(product, "get_absolute_url") else ""

    def get_image_url(self, product: Any) -> str:
        """The address of the product's main image ("" when it has none)."""
        return str(getattr(product, "image_url", "") or "")

    def lookup_field(self) -> str:
        """The model field that holds the public id (for ``filter(**{field: id})``)."""
        path = self.fields.get("id") or "pk"
        return path.replace(".", "__")

    def get_queryset(self) -> models.QuerySet:
        """Products that may be shown: available ones, when the shop tracks availability."""
        queryset = self.model._default_manager.all()
        available = self.fields.get("available")
        if available:
            queryset = queryset.filter(**{available.replace(".", "__"): True})
        return queryset

    def create_placeholder(self, item_id: str, price: Decimal | None = None) -> Any:
        """Create a product known only by its id (``promotions_import_events --create-items``).

        Shops whose product model has other required fields override this.
        """
        values = {self.lookup_field(): item_id}
        for name, value in (("title", item_id), ("price", price or Decimal("0"))):
            path = self.fields.get(name)
            if path and "." not in path:
                values[path] = value
        return self.model._default_manager.create(**values)

    def pks_by_ids(self, ids: list[str]) -> dict[str, Any]:
        """Primary keys by public id, in one query that loads no model instances."""
        field = self.lookup_field()
        rows = self.model._default_manager.filter(**{f"{field}__in": list(ids)}).values_list(field, "pk")
        return {str(public_id): pk for public_id, pk in rows}

    def related_paths(self) -> list[str]:
        """Relations the field paths go through ("category.name" -> "category"), for select_related."""
        paths = {path.rsplit(".", 1)[0].replace(".", "__") for path in self.fields.values() if path and "." in path}
        return sorted(paths)

    def all_products(self) -> Any:
        """Every product (available or not), with the relations its fields read."""
        queryset = self.model._default_manager.all()
        related = self.related_paths()
        return queryset.select_related(*related) if related else queryset

    def get_by_ids(self, ids: list[str]) -> dict[str, Any]:
        """Products by public id, with the relations their fields read, in one query."""
        found = self.model._default_manager.filter(**{f"{self.lookup_field()}__in": list(ids)})
        related = self.related_paths()
        if related:
            found = found.select_related(*related)
        return {self.get_id(product): product for product in found}


def get_adapter() -> ProductAdapter:
    """An instance of the adapter class named by ``PROMOTIONS["PRODUCT_ADAPTER"]``."""
    return app_settings.imported("PRODUCT_ADAPTER")()
