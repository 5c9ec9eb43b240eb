"""python manage.py promotions_import_events FILE: load historical interactions into the event log."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from ...tracking.importer import ColumnMap, ImportFileError, import_events
from ..progress import ProgressBar


class Command(BaseCommand):
    help = (
        "Import interactions (user_id,item_id,timestamp[,event,quantity,price]; .csv or .csv.gz) as events. "
        "Re-running the same file imports nothing new."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        defaults = ColumnMap()
        for name in ("user", "item", "timestamp", "event", "quantity", "price"):
            parser.add_argument(f"--{name}-col", default=getattr(defaults, name), help=f"column holding the {name}")
        parser.add_argument("--timezone", default=settings.TIME_ZONE, help="zone of naive timestamps")
        parser.add_argument("--shift-to", type=date.fromisoformat, help="move the history so it ends on this date")
        parser.add_argument("--default-event", default="purchase", help="event type of rows without one")
        parser.add_argument("--dry-run", action="store_true", help="validate and count, write nothing")
        parser.add_argument("--create-items", action="store_true", help="create products the shop does not have")

    def handle(self, *args, **options):
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"{path}: no such file", returncode=2)
        try:
            zone = ZoneInfo(options["timezone"])
        except (ZoneInfoNotFoundError, ValueError):
            raise CommandError(f"unknown time zone {options['timezone']!r}", returncode=2) from None
        columns = ColumnMap(**{name: options[f"{name}_col"] for name in ColumnMap.__dataclass_fields__})
        bar = ProgressBar(self.stdout, "Importing events")
        try:
            report = import_events(
                path,
                columns=columns,
                zone=zone,
                shift_to=options["shift_to"],
                dry_run=options["dry_run"],
                create_items=options["create_items"],
                default_event=options["default_event"],
                progress=bar,
            )
        except ImportFileError as exc:
            raise CommandError(str(exc), returncode=2) from None
        finally:
            bar.close()
        verb = "would import" if options["dry_run"] else "imported"
        self.stdout.write(f"{report.rows:,} rows read, {verb} {report.imported:,} events")
        if report.shift:
            self.stdout.write(f"timestamps shifted by {report.shift.days} days")
        for reason, count in sorted(report.skipped.items()):
            self.stdout.write(f"skipped {count:,} rows: {reason}")
        if report.unknown_items:
            sample = ", ".join(sorted(report.unknown_items)[:10])
            self.stdout.write(f"{len(report.unknown_items):,} unknown items (e.g. {sample}); --create-items adds them")
