"""Visitors in the admin: read-only, with the data subject actions (export and erase one person's data).

Permissions: exporting needs the view permission on visitors and on events; erasing needs
``promotions.delete_visitor`` (superusers hold every permission). Visitors cannot be added,
changed or deleted one by one here: a bare delete would leave the person's events behind.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ..tracking.models import Visitor
from ..tracking.privacy import Person, PersonDataError, erase_person, export_person, find_person

# Laid out like Django's delete_selected confirmation page.
CONFIRMATION_TEMPLATE = "admin/promotions/visitor/erase_confirmation.html"


@admin.register(Visitor)
class VisitorAdmin(admin.ModelAdmin):
    list_display = ("key", "kind", "user", "created_at")
    list_filter = ("kind",)
    list_select_related = ("user",)
    readonly_fields = ("key", "kind", "user", "created_at")
    actions = ("export_person_data", "erase_person_data")

    def get_search_fields(self, request: HttpRequest) -> tuple[str, ...]:
        user_model = get_user_model()
        return ("key", f"user__{user_model.USERNAME_FIELD}", f"user__{user_model.get_email_field_name()}")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Visitor | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Visitor | None = None) -> bool:
        return False

    def has_export_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perms(["promotions.view_visitor", "promotions.view_event"])

    def has_erase_permission(self, request: HttpRequest) -> bool:
        # No dedicated permission (it would need a model change): deleting visitors is the closest.
        return request.user.has_perm("promotions.delete_visitor")

    @admin.action(permissions=["export"], description=gettext_lazy("Export this person's data (JSON)"))
    def export_person_data(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        """One person's export as a JSON download; for several people, a JSON list of exports."""
        people = self._people(request, queryset)
        if not people:
            return None
        try:
            exports = [export_person(person) for person in people]
        except PersonDataError as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return None
        body = exports[0] if len(exports) == 1 else exports
        response = HttpResponse(json.dumps(body, indent=2, ensure_ascii=False), content_type="application/json")
        name = slugify(_label(people[0])) if len(people) == 1 else "people"
        response["Content-Disposition"] = f'attachment; filename="person-data-{name}.json"'
        return response

    @admin.action(permissions=["erase"], description=gettext_lazy("Erase this person's data"))
    def erase_person_data(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        """Asks for confirmation on an intermediate page, then erases (like delete_selected).

        The admin offers and runs it only for users with has_erase_permission.
        """
        people = self._people(request, queryset)
        if not people:
            return None
        if request.POST.get("post") != "yes":
            return self._confirmation_page(request, queryset, people)
        try:
            totals = [erase_person(person) for person in people]
        except PersonDataError as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return None
        events = sum(counts.get("events", 0) + counts.get("buffered_events", 0) for counts in totals)
        message = _("Erased the data of %(people)d person(s): %(events)d events. User accounts were kept.")
        self.message_user(request, message % {"people": len(people), "events": events}, messages.SUCCESS)
        return None

    def _people(self, request: HttpRequest, queryset: QuerySet) -> list[Person]:
        """The distinct people behind the selected visitors (several visitors may be one user)."""
        people: dict[Any, Person] = {}
        try:
            for visitor in queryset:
                person = find_person(visitor=visitor.key)
                people.setdefault(person.user_id or person.visitor_ids, person)
        except PersonDataError as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return []
        return list(people.values())

    def _confirmation_page(self, request: HttpRequest, queryset: QuerySet, people: list[Person]) -> HttpResponse:
        context = {
            **self.admin_site.each_context(request),
            "title": _("Erase personal data"),
            "question": _(
                "Erase everything the app holds about these people: events, visitor ids, cached data and "
                "every other kind of data the app keeps about them? This cannot be undone. Their user accounts "
                "are kept."
            ),
            "people": [{"label": _label(person), "summary": _summary(person)} for person in people],
            "queryset": queryset,
            "opts": self.model._meta,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "media": self.media,
        }
        return TemplateResponse(request, CONFIRMATION_TEMPLATE, context)


def _label(person: Person) -> str:
    if person.user is not None:
        return _("user %(name)s (id %(id)s)") % {"name": person.user.get_username(), "id": person.user_id}
    return _("visitor %(ids)s") % {"ids": ", ".join(person.visitor_ids)}


def _summary(person: Person) -> str:
    return _("%(events)d stored events, visitor ids: %(ids)s") % {
        "events": person.events().count(),
        "ids": ", ".join(person.visitor_ids) or "-",
    }
