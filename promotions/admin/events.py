"""The read-only event log in the admin, and the behavior analytics page built on it."""

from __future__ import annotations

from datetime import date, timedelta

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from ..conf import app_settings
from ..tracking import analytics, deadletters
from ..tracking.capture import CUSTOM_EVENT_TYPES
from ..tracking.models import DeadLetterEvent, Event, EventType

#: The page's default range, in days, ending today.
DEFAULT_DAYS = 30
#: The longest range shown; a per-day chart of more is unreadable and slow on a large log.
MAX_DAYS = 731


class EventTypeFilter(admin.SimpleListFilter):
    """Built-in and registered types, without the SELECT DISTINCT a plain field filter runs on the log."""

    title = _("type")
    parameter_name = "event_type"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [*EventType.choices, *((name, name) for name in sorted(CUSTOM_EVENT_TYPES))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Event]) -> QuerySet[Event]:
        return queryset.filter(event_type=self.value()) if self.value() else queryset


class DateRangeForm(forms.Form):
    start = forms.DateField(label=_("From"), widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}))
    end = forms.DateField(label=_("To"), widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}))

    def clean(self) -> dict:
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end:
            if start > end:
                raise forms.ValidationError(_("The start date must not be after the end date."), code="reversed")
            if (end - start).days + 1 > MAX_DAYS:
                raise forms.ValidationError(
                    _("Choose a range of at most %(days)d days."), code="too_long", params={"days": MAX_DAYS}
                )
        return data


def range_form(request: HttpRequest) -> DateRangeForm:
    """The form bound to the query string, or to the last 30 days (in the shop's time zone) when empty."""
    if "start" in request.GET or "end" in request.GET:
        return DateRangeForm(request.GET)
    today = timezone.localdate()
    return DateRangeForm({"start": today - timedelta(days=DEFAULT_DAYS - 1), "end": today})


def chart_series(report: analytics.Report) -> dict[str, list[tuple[str, int]]]:
    """The (label, value) pairs each chart of the page draws."""

    def day(value: date) -> str:
        return date_format(value, "SHORT_DATE_FORMAT")

    return {
        "visitors": [(day(row.day), row.visitors) for row in report.daily],
        "events": [(day(row.day), row.events) for row in report.daily],
        "funnel": [
            (gettext("Viewed"), report.funnel.viewed),
            (gettext("Added to cart"), report.funnel.added_to_cart),
            (gettext("Purchased"), report.funnel.purchased),
        ],
    }


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    """Events are written by tracking only; retention and erasure delete them elsewhere."""

    list_display = ["occurred_at", "event_type", "visitor_id", "user", "item_id", "quantity", "unit_price"]
    list_filter = [EventTypeFilter]
    date_hierarchy = "occurred_at"
    # Exact matches use the visitor and item indexes; the query is matched anywhere in it.
    search_fields = ["=visitor_id", "=item_id", "query"]
    list_select_related = ["user"]
    ordering = ["-occurred_at"]
    # Counting a log of millions of rows twice per page is the slow part of a changelist.
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    change_list_template = "admin/promotions/event/change_list.html"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Event | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Event | None = None) -> bool:
        return request.user.is_superuser

    def get_urls(self) -> list[URLPattern]:
        name = f"{self.opts.app_label}_{self.opts.model_name}_analytics"
        analytics_url = path("analytics/", self.admin_site.admin_view(self.analytics_view), name=name)
        return [analytics_url, *super().get_urls()]

    def analytics_view(self, request: HttpRequest) -> HttpResponse:
        """Behavior analytics for a date range: traffic, funnel, CTR, revenue, products, failed searches."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        form = range_form(request)
        report = analytics.report(form.cleaned_data["start"], form.cleaned_data["end"]) if form.is_valid() else None
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": gettext("Behavior analytics"),
            "form": form,
            "report": report,
            "series": chart_series(report) if report else None,
            "min_sample": app_settings.ANALYTICS_MIN_SAMPLE,
            "outlier_factor": analytics.OUTLIER_FACTOR,
        }
        return TemplateResponse(request, "admin/promotions/event/analytics.html", context)


@admin.register(DeadLetterEvent)
class DeadLetterEventAdmin(admin.ModelAdmin):
    """Events the flush could not store: read the reason and the payload, retry or discard them.

    Retrying repairs what the capture limits can repair (NUL and lone surrogates removed, text
    cut, out-of-range numbers dropped) and stores the event; discarding is the delete action.
    """

    list_display = ["created_at", "reason", "attempts", "source_id"]
    search_fields = ["reason", "=source_id"]
    readonly_fields = ["source_id", "reason", "payload", "attempts", "created_at", "last_tried_at"]
    ordering = ["-created_at"]
    actions = ["retry"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(permissions=["change"], description=_("Retry the selected events (repaired where possible)"))
    def retry(self, request: HttpRequest, queryset: QuerySet[DeadLetterEvent]) -> None:
        stored, failed = deadletters.retry(queryset)
        if stored:
            message = ngettext("%(count)d event was stored.", "%(count)d events were stored.", stored)
            self.message_user(request, message % {"count": stored}, messages.SUCCESS)
        if failed:
            message = ngettext(
                "%(count)d event still cannot be stored; its reason is updated.",
                "%(count)d events still cannot be stored; their reasons are updated.",
                failed,
            )
            self.message_user(request, message % {"count": failed}, messages.WARNING)
