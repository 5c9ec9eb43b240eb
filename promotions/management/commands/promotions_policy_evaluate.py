"""Estimate promotion policies on a bandit slot's logged, randomized picks before one goes live.

``manage.py promotions_policy_evaluate --slot S [--days 30] [--resamples 2000] [--seed 0] [--json OUT]``
prints one table: conversions per visitor of the logged policy, of each single arm, and of "the arm
with the highest predicted uplift" where the arms have uplift models, with 95% bootstrap intervals
and the difference from the logged policy. Bad input exits with code 2 and one line.
"""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from promotions.uplift.app_policy import PolicyInputError, evaluate_slot

INPUT_ERROR_EXIT_CODE = 2


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.2f}%"


class Command(BaseCommand):
    help = (
        "Estimate by inverse propensity weighting, on a bandit slot's logged picks, the conversions per visitor "
        "of the logged policy, each single promotion, and the highest-predicted-uplift policy."
    )

    def add_arguments(self, parser):
        parser.add_argument("--slot", required=True, help="the slot whose bandit picks are read")
        parser.add_argument("--days", type=int, default=30, help="picks of the last N days")
        parser.add_argument("--resamples", type=int, default=2000, help="bootstrap resamples")
        parser.add_argument("--seed", type=int, default=0, help="seed of the bootstrap")
        parser.add_argument("--json", dest="json_path", help="also write the report as JSON to this file")

    def handle(self, *args, **options):
        json_path = Path(options["json_path"]) if options["json_path"] else None
        try:
            if json_path is not None and not json_path.parent.is_dir():
                raise PolicyInputError(f"cannot write {json_path}: folder {json_path.parent} does not exist")
            report = evaluate_slot(options["slot"], options["days"], options["resamples"], options["seed"])
        except PolicyInputError as error:
            raise CommandError(str(error), returncode=INPUT_ERROR_EXIT_CODE) from error
        self.stdout.write(
            f"Slot {report['slot']!r}, last {report['days']} days: {report['visitors']} visitors, "
            f"{report['conversions']} credited conversions; 95% intervals from {report['resamples']} resamples."
        )
        self.stdout.write(
            f"{'policy':<40} {'conv./visitor':>13} {'95% interval':>19} {'vs logged':>9} {'95% interval':>19}"
        )
        for name, row in report["policies"].items():
            interval = f"{_percent(row['low'])} - {_percent(row['high'])}"
            difference = f"{_percent(row['difference_low'])} - {_percent(row['difference_high'])}"
            self.stdout.write(
                f"{name[:40]:<40} {_percent(row['value']):>13} {interval:>19} {_percent(row['difference']):>9} "
                f"{difference:>19}"
            )
        if json_path is not None:
            json_path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
