"""The product adapter over Oscar's catalogue.

Price and availability come from Oscar's pricing strategy (stock records, the shop's own
``Selector``), the category is the full path of the product's first category
("Candles > Scented", so a promotion for "Candles" covers it), the brand is the product's
``brand`` attribute when its class has one; child products take the parent's categories and
images, as Oscar does.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import models

from ...products import ProductAdapter, ProductInfo

#: The product attribute (``ProductAttribute.code``) read as the brand, when a class has it.
BRAND_ATTRIBUTE = "brand"


class OscarProductAdapter(ProductAdapter):
    """Reads Oscar products; ``PROMOTIONS["PRODUCT_FIELDS"]`` is not used for them."""

    uses_product_fields = False

    def __init__(self, fields: dict[str, str | None] | None = None):
        super().__init__(fields)
        self._category_names: dict[int, str] = {}
        self._strategy = None

    @property
    def strategy(self) -> Any:
        # The shop's default strategy, as Oscar uses outside a request (no user: list prices).
        if self._strategy is None:
            from oscar.core.loading import get_class

            self._strategy = get_class("partner.strategy", "Selector")().strategy()
        return self._strategy

    def purchase_info(self, product: Any) -> Any:
        if product.is_parent:
            return self.strategy.fetch_for_parent(product)
        return self.strategy.fetch_for_product(product)

    def get_id(self, product: Any) -> str:
        return str(product.pk)

    def get_price(self, product: Any) -> Decimal:
        price = self.purchase_info(product).price
        if not price.exists:
            return Decimal("0")
        # The price the shopper pays: tax included where the strategy knows the tax.
        return Decimal(price.incl_tax if price.is_tax_known else price.excl_tax)

    def is_available(self, product: Any) -> bool:
        return bool(self.purchase_info(product).availability.is_available_to_buy)

    def get_category(self, product: Any) -> str:
        categories = list(product.get_categories())
        if not categories:
            return ""
        category = min(categories, key=lambda c: c.path)  # the same one every time
        if category.pk not in self._category_names:
            self._category_names[category.pk] = category.full_name
        return self._category_names[category.pk]

    def get_brand(self, product: Any) -> str:
        for owner in (product, product.parent) if product.is_child else (product,):
            for value in owner.attribute_values.all():
                if value.attribute.code == BRAND_ATTRIBUTE and value.value not in (None, ""):
                    return str(value.value)
        return ""

    def info(self, product: Any) -> ProductInfo:
        info = self.purchase_info(product)
        price = info.price
        amount = Decimal(price.incl_tax if price.is_tax_known else price.excl_tax) if price.exists else Decimal("0")
        title = product.get_title()
        text = " ".join(part for part in (title, product.description or "") if part)
        return ProductInfo(
            id=self.get_id(product),
            title=title,
            category=self.get_category(product),
            brand=self.get_brand(product),
            price=amount,
            cost=None,
            available=bool(info.availability.is_available_to_buy),
            text=text,
        )

    def get_url(self, product: Any) -> str:
        return product.get_absolute_url()

    def get_image_url(self, product: Any) -> str:
        image = product.primary_image()
        if isinstance(image, dict):  # Oscar's "missing image" placeholder
            return ""
        return image.original.url if image.original else ""

    def lookup_field(self) -> str:
        return "pk"

    def related_paths(self) -> list[str]:
        return ["parent", "product_class"]

    def _with_relations(self, queryset: models.QuerySet) -> models.QuerySet:
        return queryset.select_related("parent", "product_class").prefetch_related(
            "categories",
            "parent__categories",
            "stockrecords",
            "children__stockrecords",
            "images",
            "attribute_values__attribute",
            "parent__attribute_values__attribute",
        )

    def get_queryset(self) -> models.QuerySet:
        """Products a shopper can browse to (public, not the variants of a parent)."""
        return self._with_relations(self.model._default_manager.browsable())

    def all_products(self) -> Any:
        return self._with_relations(self.model._default_manager.all())

    def get_by_ids(self, ids: list[str]) -> dict[str, Any]:
        pks = [int(item_id) for item_id in ids if str(item_id).isdigit()]
        found = self._with_relations(self.model._default_manager.filter(pk__in=pks))
        return {self.get_id(product): product for product in found}

    def pks_by_ids(self, ids: list[str]) -> dict[str, Any]:
        pks = [int(item_id) for item_id in ids if str(item_id).isdigit()]
        return {str(pk): pk for pk in self.model._default_manager.filter(pk__in=pks).values_list("pk", flat=True)}

    def create_placeholder(self, item_id: str, price: Decimal | None = None) -> Any:
        raise NotImplementedError("Oscar products need a product class: create them in Oscar's dashboard.")
