"""E-mail campaigns in the admin: the segment and holdout, an export action (CSV or JSON Lines),
the campaign's clicks, attributed purchases and measured lift on its page, and unsubscribes."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ..campaigns.attribution import campaign_report
from ..campaigns.export import CSV, JSONL, export_campaign, record_export, rows_text
from ..campaigns.models import Campaign, Unsubscribe
from ..campaigns.segments import SegmentError
from ..conf import app_settings

CONTENT_TYPES = {CSV: "text/csv; charset=utf-8", JSONL: "application/x-ndjson; charset=utf-8"}


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ["name", "segment", "days", "holdout_share", "sent", "held_out", "exported_at"]
    list_filter = ["segment"]
    search_fields = ["name"]
    readonly_fields = ["exported_at"]
    actions = ["export_csv", "export_jsonl"]
    change_form_template = "admin/promotions/campaign/change_form.html"
    fieldsets = [
        (None, {"fields": ["name", "segment", "days", "category", "holdout_share"]}),
        (
            gettext_lazy("What each e-mail shows"),
            {"fields": ["slot", "promotion_count", "product_count", "link_days"]},
        ),
        (gettext_lazy("Measurement"), {"fields": ["attribution_days", "exported_at"]}),
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return (
            super()
            .get_queryset(request)
            .annotate(
                sent_count=Count("recipients", filter=Q(recipients__holdout=False)),
                held_count=Count("recipients", filter=Q(recipients__holdout=True)),
            )
        )

    @admin.display(description=gettext_lazy("sent"), ordering="sent_count")
    def sent(self, obj: Campaign) -> int:
        return obj.sent_count

    @admin.display(description=gettext_lazy("held out"), ordering="held_count")
    def held_out(self, obj: Campaign) -> int:
        return obj.held_count

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        campaign = self.get_object(request, object_id)
        report = campaign_report(campaign) if campaign is not None and campaign.exported_at else None
        return super().change_view(request, object_id, form_url, {**(extra_context or {}), "report": report})

    def _export(self, request: HttpRequest, queryset: QuerySet, fmt: str) -> HttpResponse | None:
        if queryset.count() != 1:
            self.message_user(request, _("Select one campaign to export."), messages.ERROR)
            return None
        campaign = queryset.get()
        base_url = app_settings.CAMPAIGN_BASE_URL or request.build_absolute_uri("/")
        try:
            result = export_campaign(campaign, base_url)
        except SegmentError as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return None
        text = rows_text(campaign, result.rows, fmt)
        record_export(campaign, result)
        for customer, reason in result.skipped:
            self.message_user(
                request,
                _("Skipped %(customer)s: %(reason)s") % {"customer": customer, "reason": reason},
                messages.WARNING,
            )
        response = HttpResponse(text, content_type=CONTENT_TYPES[fmt])
        response["Content-Disposition"] = f'attachment; filename="campaign-{campaign.pk}.{fmt}"'
        return response

    @admin.action(description=gettext_lazy("Export the selected campaign's rows (CSV)"), permissions=["change"])
    def export_csv(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        return self._export(request, queryset, CSV)

    @admin.action(description=gettext_lazy("Export the selected campaign's rows (JSON Lines)"), permissions=["change"])
    def export_jsonl(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        return self._export(request, queryset, JSONL)


@admin.register(Unsubscribe)
class UnsubscribeAdmin(admin.ModelAdmin):
    list_display = ["customer_key", "user", "created_at"]
    search_fields = ["customer_key"]
    raw_id_fields = ["user"]
