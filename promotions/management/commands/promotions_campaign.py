"""``manage.py promotions_campaign create|export|report``: personalized e-mail campaigns.

``create --name N --segment recent|category|lapsed [--days 30] [--category C] [--holdout 0.1] ...``
prints the new campaign's id. ``export (--campaign ID | --name N --segment ...) [--format csv|jsonl]
[--output FILE] [--base-url URL] [--language CODE]`` writes one row per customer of the segment
(the holdout gets none) and lists the customers it had to skip. ``report --campaign ID`` prints the campaign's lift
over its holdout. Bad input exits with code 2 and one line.
"""

from __future__ import annotations

import os
import tempfile
from argparse import ArgumentTypeError
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import translation
from django.utils.translation import gettext as _

from ...campaigns.attribution import campaign_report
from ...campaigns.export import FORMATS, export_campaign, record_export, rows_text
from ...campaigns.models import Campaign
from ...campaigns.segments import SegmentError, check_segment
from ...conf import app_settings

INPUT_ERROR_EXIT_CODE = 2


class OneLineParser(CommandParser):
    """Argument errors as one line (argparse prints the usage over several)."""

    def error(self, message: str) -> None:
        if self.called_from_command_line:
            self.exit(INPUT_ERROR_EXIT_CODE, f"CommandError: {message}\n")
        raise CommandError(message, returncode=INPUT_ERROR_EXIT_CODE)


def _share(text: str) -> Decimal:
    try:
        return Decimal(text)
    except InvalidOperation:
        raise ArgumentTypeError(_("not a number: %(text)r") % {"text": text}) from None


def _bad(message: str) -> CommandError:
    return CommandError(message, returncode=INPUT_ERROR_EXIT_CODE)


class Command(BaseCommand):
    help = _("Create personalized e-mail campaigns, export their rows, and report their lift over the holdout.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.__class__ = OneLineParser
        actions = parser.add_subparsers(
            dest="action", required=True, metavar="create|export|report", parser_class=OneLineParser
        )
        create = actions.add_parser("create", help=_("create a campaign and print its id"))
        self._campaign_options(create, required=True)
        export = actions.add_parser("export", help=_("write a campaign's rows"))
        export.add_argument("--campaign", type=int, metavar="ID", help=_("the campaign to export"))
        self._campaign_options(export, required=False)
        export.add_argument("--format", choices=FORMATS, default="csv", help=_("csv (default) or jsonl"))
        export.add_argument("--output", "-o", type=Path, metavar="FILE", help=_("write to FILE instead of stdout"))
        export.add_argument("--base-url", metavar="URL", help=_("the shop's address the links start with"))
        export.add_argument(
            "--language",
            metavar="CODE",
            help=_("the language of the promotions' texts, e.g. zh-hans"),
        )
        report = actions.add_parser("report", help=_("print a campaign's lift over its holdout"))
        report.add_argument("--campaign", type=int, metavar="ID", required=True, help=_("the campaign"))

    @staticmethod
    def _campaign_options(parser: CommandParser, required: bool) -> None:
        parser.add_argument("--name", required=required, help=_("the campaign's name"))
        parser.add_argument("--segment", required=required, help=_("recent, category or lapsed"))
        parser.add_argument("--days", type=int, default=30, help=_("the N of the segment (default 30)"))
        parser.add_argument("--category", default="", help=_("the category of the category segment"))
        parser.add_argument("--holdout", type=_share, default=Decimal("0.1"), help=_("the share held out (0.1)"))
        parser.add_argument("--promotions", type=int, default=3, help=_("promotions per customer (default 3)"))
        parser.add_argument("--products", type=int, default=4, help=_("products per customer (default 4)"))
        parser.add_argument("--slot", default="home", help=_("the slot whose promotions are shown (default home)"))
        parser.add_argument("--link-days", type=int, default=30, help=_("days the links stay valid (default 30)"))
        parser.add_argument("--attribution-days", type=int, default=7, help=_("the attribution window (default 7)"))

    def handle(self, *args: Any, **options: Any) -> None:
        getattr(self, f"_{options['action']}")(options)

    def _create(self, options: dict[str, Any]) -> Campaign:
        try:
            check_segment(options["segment"], options["days"], options["category"])
        except SegmentError as exc:
            raise _bad(str(exc)) from None
        campaign = Campaign(
            name=options["name"],
            segment=options["segment"],
            days=options["days"],
            category=options["category"],
            holdout_share=options["holdout"],
            promotion_count=options["promotions"],
            product_count=options["products"],
            slot=options["slot"],
            link_days=options["link_days"],
            attribution_days=options["attribution_days"],
        )
        try:
            campaign.full_clean()
        except ValidationError as exc:
            problems = [f"{name}: {' '.join(messages)}" for name, messages in exc.message_dict.items()]
            raise _bad("; ".join(problems)) from None
        campaign.save()
        if options["action"] == "create":
            self.stdout.write(str(campaign.pk))
        return campaign

    def _campaign(self, options: dict[str, Any]) -> Campaign:
        campaign = Campaign.objects.filter(pk=options["campaign"]).first()
        if campaign is None:
            raise _bad(_("No campaign has the id %(id)s.") % {"id": options["campaign"]})
        return campaign

    def _export(self, options: dict[str, Any]) -> None:
        base_url = options["base_url"] or app_settings.CAMPAIGN_BASE_URL
        if not base_url or not base_url.startswith(("http://", "https://")):
            raise _bad(_("Give the shop's address the links start with: --base-url https://shop.example."))
        language = translation.get_language()
        if options["language"]:
            try:
                language = translation.get_supported_language_variant(options["language"])
            except LookupError:
                choices = ", ".join(code for code, _name in settings.LANGUAGES)
                message = _("Unknown language %(language)r; use one of: %(choices)s.")
                raise _bad(message % {"language": options["language"], "choices": choices}) from None
        output = options["output"]
        if output is not None and not output.parent.is_dir():
            raise _bad(_("Cannot write %(path)s: its folder does not exist.") % {"path": output})
        if options["campaign"] is not None:
            campaign = self._campaign(options)
        elif options["name"] and options["segment"]:
            campaign = self._create(options)
        else:
            raise _bad(_("Name a campaign (--campaign ID) or a new one (--name and --segment)."))
        try:
            with translation.override(language):
                result = export_campaign(campaign, base_url, progress=self.stderr.write)
        except SegmentError as exc:
            raise _bad(str(exc)) from None
        text = rows_text(campaign, result.rows, options["format"])
        if output is None:
            self.stdout.write(text, ending="")
        else:
            _write_whole(output, text)
        record_export(campaign, result)
        self.stderr.write(
            _("Campaign %(id)s: %(rows)d rows, %(held)d customers held out, %(skipped)d skipped.")
            % {
                "id": campaign.pk,
                "rows": len(result.rows),
                "held": len(result.held_out),
                "skipped": len(result.skipped),
            }
        )

    def _report(self, options: dict[str, Any]) -> None:
        report = campaign_report(self._campaign(options))
        for line in report.lines():
            self.stdout.write(line)


def _write_whole(path: Path, text: str) -> None:
    """The file appears whole or not at all (written beside it, then renamed)."""
    try:
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
            stream.write(text)
        os.replace(temporary, path)
    except OSError as exc:
        message = _("Cannot write %(path)s: %(error)s") % {"path": path, "error": exc.strerror or exc}
        raise _bad(message) from None
