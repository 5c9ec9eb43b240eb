"""``manage.py promotions_bought_together [--days N] [--suggest N] [--percent P]``: rebuild the
products bought together from the purchase events, and optionally suggest bundle promotions
(drafts) for the strongest pairs."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from promotions.offers import together


class Command(BaseCommand):
    help = "Rebuild the products bought together from the purchases; --suggest N drafts bundle promotions."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, help="purchases of the last N days (default BOUGHT_TOGETHER_DAYS)")
        parser.add_argument("--suggest", type=int, default=0, help="draft bundle promotions for the N strongest pairs")
        parser.add_argument("--percent", default="10", help="the suggested bundles' percentage off (default 10)")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["days"] is not None and options["days"] < 1:
            raise CommandError("--days must be at least 1", returncode=2)
        if options["suggest"] < 0:
            raise CommandError("--suggest must be 0 or more", returncode=2)
        try:
            percent = Decimal(options["percent"])
        except InvalidOperation:
            percent = Decimal(-1)
        if not Decimal(0) < percent <= Decimal(100):
            raise CommandError("--percent must be a number above 0 and at most 100", returncode=2)
        stored = together.refresh(options["days"])
        self.stdout.write(f"{stored} product pairs stored (both directions).")
        if options["suggest"]:
            created = together.suggest_bundles(options["suggest"], percent)
            for promotion in created:
                self.stdout.write(f"draft bundle promotion {promotion.pk}: {', '.join(promotion.target_values)}")
            self.stdout.write(f"{len(created)} bundle promotions drafted; review and activate them in the admin.")
