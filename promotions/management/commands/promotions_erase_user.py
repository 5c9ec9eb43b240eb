"""``manage.py promotions_erase_user --user ID | --email ADDRESS | --visitor ID [--yes]``."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from ...tracking.privacy import Person, PersonDataError, erase_person
from .promotions_export_user import add_person_arguments, person_from_options


class Command(BaseCommand):
    help = _(
        "Erase everything the promotions app holds about one person: events (stored and still buffered), "
        "visitor ids, cached values and every registered section, in one transaction. The next training "
        "forgets them. The shop's user account is kept."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        add_person_arguments(parser)
        parser.add_argument(
            "--yes",
            "--no-input",
            "--noinput",
            action="store_false",
            dest="interactive",
            help=_("erase without asking for confirmation"),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        person = person_from_options(options)
        if options["interactive"] and not self._confirmed(person):
            self.stdout.write(_("Erasure cancelled."))
            return
        try:
            counts = erase_person(person)
        except PersonDataError as exc:
            raise CommandError(str(exc)) from None
        summary = ", ".join(f"{name} {count}" for name, count in counts.items())
        self.stdout.write(_("Erased: %(summary)s.") % {"summary": summary})
        if person.user is not None:
            self.stdout.write(_("The user account %(id)s was kept.") % {"id": person.user_id})

    def _confirmed(self, person: Person) -> bool:
        who = _("user %(id)s") % {"id": person.user_id} if person.user is not None else _("an anonymous visitor")
        ids = ", ".join(person.visitor_ids) or "-"
        question = _("Erase all data of %(who)s (visitor ids: %(ids)s)? This cannot be undone. Type 'yes': ") % {
            "who": who,
            "ids": ids,
        }
        try:
            return input(question).strip().lower() == "yes"
        except EOFError:
            return False
