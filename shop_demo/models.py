"""Catalogue, orders and reviews of the demo shop."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


class Category(models.Model):
    # The English name is the category's identity (promotions target it, the models learn it);
    # the Chinese name is what a Chinese page shows, the English one where it is empty.
    name = models.CharField(_("name"), max_length=100, unique=True)
    name_zh_hans = models.CharField(_("name (Simplified Chinese)"), max_length=100, blank=True)
    slug = models.SlugField(_("slug"), max_length=100, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("category")
        verbose_name_plural = _("categories")

    def __str__(self) -> str:
        return self.localized_name

    def get_absolute_url(self) -> str:
        return reverse("shop:category", args=[self.slug])

    @property
    def localized_name(self) -> str:
        """The name in the active language: Chinese on a zh-hans page where it has one."""
        return localized(self.name, self.name_zh_hans)


def localized(name: str, name_zh_hans: str) -> str:
    """``name_zh_hans`` when the active language is Simplified Chinese and it is set, else ``name``."""
    language = (get_language() or "").lower()
    chinese = language.startswith("zh") and "hant" not in language and "tw" not in language
    return name_zh_hans if chinese and name_zh_hans else name


class Brand(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    slug = models.SlugField(_("slug"), max_length=100, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("brand")
        verbose_name_plural = _("brands")

    def __str__(self) -> str:
        return self.name


class Product(models.Model):
    # The stock code is the product's public id (item ids are strings everywhere).
    stock_code = models.CharField(_("stock code"), max_length=32, unique=True)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    category = models.ForeignKey(
        Category, models.SET_NULL, null=True, blank=True, related_name="products", verbose_name=_("category")
    )
    brand = models.ForeignKey(
        Brand, models.SET_NULL, null=True, blank=True, related_name="products", verbose_name=_("brand")
    )
    price = models.DecimalField(_("price"), max_digits=10, decimal_places=2, validators=[MinValueValidator(0)])
    in_stock = models.BooleanField(_("in stock"), default=True)

    class Meta:
        ordering = ["title"]
        verbose_name = _("product")
        verbose_name_plural = _("products")

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("shop:product", args=[self.stock_code])


class Order(models.Model):
    class Status(models.TextChoices):
        PAID = "paid", _("paid")
        CANCELLED = "cancelled", _("cancelled")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="orders", verbose_name=_("user")
    )
    # Orders imported from the shop's history belong to customers who have no account here.
    customer_ref = models.CharField(_("customer reference"), max_length=64, blank=True, db_index=True)
    created_at = models.DateTimeField(_("created at"), db_index=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PAID)
    email = models.EmailField(_("e-mail"), blank=True)
    shipping_address = models.TextField(_("shipping address"), blank=True)
    shipping = models.DecimalField(_("shipping"), max_digits=10, decimal_places=2, default=Decimal("0.00"))
    discount = models.DecimalField(_("discount"), max_digits=10, decimal_places=2, default=Decimal("0.00"))
    #: One cart becomes one order: concurrent submits of the same cart share this key (unique).
    checkout_key = models.CharField(
        _("checkout key"), max_length=64, unique=True, null=True, blank=True, editable=False
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("order")
        verbose_name_plural = _("orders")

    def __str__(self) -> str:
        return _("Order %(id)s") % {"id": self.pk}

    @property
    def subtotal(self) -> Decimal:
        return sum((line.line_total for line in self.lines.all()), Decimal("0"))

    @property
    def total(self) -> Decimal:
        return self.subtotal + self.shipping - self.discount


class OrderLine(models.Model):
    order = models.ForeignKey(Order, models.CASCADE, related_name="lines", verbose_name=_("order"))
    product = models.ForeignKey(Product, models.PROTECT, related_name="order_lines", verbose_name=_("product"))
    quantity = models.PositiveIntegerField(_("quantity"), validators=[MinValueValidator(1)])
    unit_price = models.DecimalField(_("unit price"), max_digits=10, decimal_places=2)

    class Meta:
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")

    def __str__(self) -> str:
        return f"{self.quantity} x {self.product}"

    @property
    def line_total(self) -> Decimal:
        return self.unit_price * self.quantity


class Review(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="reviews", verbose_name=_("user"))
    product = models.ForeignKey(Product, models.CASCADE, related_name="reviews", verbose_name=_("product"))
    rating = models.PositiveSmallIntegerField(_("rating"), validators=[MinValueValidator(1), MaxValueValidator(5)])
    text = models.TextField(_("review"), blank=True, max_length=4000)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["user", "product"], name="one_review_per_user_and_product")]
        verbose_name = _("review")
        verbose_name_plural = _("reviews")

    def __str__(self) -> str:
        return f"{self.product} ({self.rating}/5)"
