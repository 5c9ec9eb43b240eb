"""API keys in the admin: create one (its full text is shown once, on the page after saving),
revoke selected keys; the secret is never shown again nor editable."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from ..api.keys import ApiKey


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ("name", "prefix", "scope_list", "rate", "created_at", "last_used_at", "revoked_at")
    list_filter = ("can_read", "can_write_events", "can_price_baskets", "can_redeem_orders")  # the scopes
    search_fields = ("name", "prefix")
    readonly_fields = ("prefix", "created_by", "created_at", "last_used_at", "revoked_at")
    scope_fields = ("can_read", "can_write_events", "can_price_baskets", "can_redeem_orders")
    fields = ("name", *scope_fields, "rate", *readonly_fields)
    actions = ("revoke_keys",)

    @admin.display(description=gettext_lazy("scopes"))
    def scope_list(self, key: ApiKey) -> str:
        return ", ".join(key.scopes) or "-"

    def has_delete_permission(self, request: HttpRequest, obj: ApiKey | None = None) -> bool:
        return False  # revoked, never deleted: events name the key that sent them

    def save_model(self, request: HttpRequest, obj: ApiKey, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        text = obj.new_secret()
        obj.created_by = request.user
        super().save_model(request, obj, form, change)
        messages.warning(
            request,
            _("The key for %(name)s is %(key)s. Copy it now: it is stored hashed and will not be shown again.")
            % {"name": obj.name, "key": text},
        )

    @admin.action(permissions=["change"], description=gettext_lazy("Revoke the selected API keys"))
    def revoke_keys(self, request: HttpRequest, queryset: QuerySet) -> None:
        keys = [key for key in queryset if key.active]
        for key in keys:
            key.revoke()
        count = len(keys)
        self.message_user(
            request, ngettext("%(count)d key revoked.", "%(count)d keys revoked.", count) % {"count": count}
        )
