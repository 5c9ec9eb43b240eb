"""Staff admin of the demo shop's catalogue, orders and reviews."""

from __future__ import annotations

from decimal import Decimal

from django.contrib import admin
from django.db.models import DecimalField, ExpressionWrapper, F, QuerySet, Sum
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from .models import Brand, Category, Order, OrderLine, Product, Review

# Messages of Django's admin and of django-axes with no Chinese translation of their own: listed
# here so that the demo's catalogue (LOCALE_PATHS, read before the apps' own) translates them.
UPSTREAM_MESSAGES = (
    gettext_noop("Model name"),
    gettext_noop("Add link"),
    gettext_noop("Change or view list link"),
    gettext_noop("After you’ve created a user, you’ll be able to edit more user options."),
    gettext_noop("Error:"),
    gettext_noop("Forgotten your login credentials?"),
    gettext_noop("In case you’ve forgotten, you are:"),
    gettext_noop("access attempt"),
    gettext_noop("access attempts"),
    gettext_noop("access failure"),
    gettext_noop("access failures"),
    gettext_noop("access log"),
    gettext_noop("access logs"),
    gettext_noop("access attempt expiration"),
    gettext_noop("access attempt expirations"),
)


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "name_zh_hans", "slug"]
    search_fields = ["name", "name_zh_hans"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Brand)
class BrandAdmin(admin.ModelAdmin):
    list_display = ["name", "slug"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["stock_code", "title", "category", "brand", "price", "in_stock"]
    list_filter = ["category", "brand", "in_stock"]
    search_fields = ["title", "stock_code"]
    list_select_related = ["category", "brand"]
    list_per_page = 50


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    fields = ["product", "quantity", "unit_price", "line_total"]
    readonly_fields = ["line_total"]
    autocomplete_fields = ["product"]
    extra = 0

    @admin.display(description=_("line total"))
    def line_total(self, line: OrderLine) -> Decimal | str:
        return line.line_total if line.pk else "-"


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ["__str__", "created_at", "user", "customer_ref", "email", "status", "order_total"]
    list_filter = ["status", "created_at"]
    search_fields = ["=id", "customer_ref", "email", "user__username"]
    date_hierarchy = "created_at"
    raw_id_fields = ["user"]
    readonly_fields = ["order_total"]
    inlines = [OrderLineInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Order]:
        # One query for the list's totals instead of one per order.
        line_total = ExpressionWrapper(F("lines__unit_price") * F("lines__quantity"), output_field=DecimalField())
        return super().get_queryset(request).select_related("user").annotate(total_amount=Sum(line_total))

    @admin.display(description=_("total"), ordering="total_amount")
    def order_total(self, order: Order) -> Decimal:
        return getattr(order, "total_amount", None) or Decimal("0.00")


@admin.register(Review)
class ReviewAdmin(admin.ModelAdmin):
    list_display = ["product", "user", "rating", "created_at"]
    list_filter = ["rating", "created_at"]
    search_fields = ["product__title", "product__stock_code", "user__username"]
    list_select_related = ["product", "user"]
    autocomplete_fields = ["product"]
    raw_id_fields = ["user"]
