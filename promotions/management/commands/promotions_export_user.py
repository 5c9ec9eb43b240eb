"""``manage.py promotions_export_user --user ID | --email ADDRESS | --visitor ID [--output FILE]``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from ...tracking.privacy import Person, PersonDataError, export_person, find_person

#: Exit status for bad input (unknown person, wrong selectors, unusable path), as for every command of the app.
INPUT_ERROR_EXIT_CODE = 2


def add_person_arguments(parser: CommandParser) -> None:
    """The three ways to name a person; exactly one is checked by person_from_options."""
    parser.add_argument("--user", metavar="ID", help=_("the shop user with this id"))
    parser.add_argument("--email", metavar="ADDRESS", help=_("the shop user with this e-mail address"))
    parser.add_argument("--visitor", metavar="ID", help=_("a visitor cookie id or an imported customer id"))


def person_from_options(options: dict[str, Any]) -> Person:
    # Checked here rather than by argparse, whose errors print the usage over several lines.
    try:
        return find_person(user=options["user"], email=options["email"], visitor=options["visitor"])
    except PersonDataError as exc:
        raise CommandError(str(exc), returncode=INPUT_ERROR_EXIT_CODE) from None


class Command(BaseCommand):
    help = _(
        "Export everything the promotions app holds about one person as JSON: the user, their visitor ids, "
        "events (stored and still buffered), cached values and every registered section."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        add_person_arguments(parser)
        parser.add_argument("--output", "-o", metavar="FILE", type=Path, help=_("write to FILE instead of stdout"))

    def handle(self, *args: Any, **options: Any) -> None:
        person = person_from_options(options)
        try:
            text = json.dumps(export_person(person), indent=2, ensure_ascii=False) + "\n"
        except PersonDataError as exc:
            raise CommandError(str(exc)) from None
        if options["output"] is None:
            self.stdout.write(text, ending="")
            return
        self._write(options["output"], text)
        self.stderr.write(_("Wrote the export to %(path)s.") % {"path": options["output"]})

    @staticmethod
    def _write(path: Path, text: str) -> None:
        try:
            path.write_text(text, encoding="utf-8")
        except OSError as exc:
            message = _("Cannot write %(path)s: %(error)s") % {"path": path, "error": exc.strerror or exc}
            raise CommandError(message, returncode=INPUT_ERROR_EXIT_CODE) from None
