"""Uplift models on a logged experiment CSV.

``manage.py promotions_uplift FILE --treatment-col T --outcome-col Y [options]``: the command parses
the arguments and prints; reading, training and evaluation live in ``promotions.uplift``. With
``--save NAME`` the run is stored as an ``UpliftReport`` (shown and drawn in the admin), only once
everything else has succeeded.
"""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from promotions.uplift import data, evaluate
from promotions.uplift.records import UpliftReport

INPUT_ERROR_EXIT_CODE = 2


def _names(text: str | None) -> list[str] | None:
    return [name.strip() for name in text.split(",") if name.strip()] if text else None


def _check_name(name: str) -> None:
    limit = UpliftReport._meta.get_field("name").max_length
    if not name:
        raise data.InputError("--save needs a non-empty report name")
    if len(name) > limit:
        raise data.InputError(f"the report name is longer than {limit} characters")


class Command(BaseCommand):
    help = (
        "Train uplift models (binary outcome: T-learner, class transformation, X-learner; continuous: T- and "
        "S-learner) on a logged randomized experiment and report, per treatment vs the control, the Qini "
        "coefficient, AUUC and uplift@10/20/30% on held-out rows; the best model is chosen on a validation fold."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="CSV file, one row per customer (.csv.gz is read too)")
        parser.add_argument("--treatment-col", required=True, help="column naming each customer's arm")
        parser.add_argument("--outcome-col", required=True, help="column with the outcome (0/1 or numeric)")
        parser.add_argument("--control", help=f"the control arm (default: {data.DEFAULT_CONTROL!r})")
        parser.add_argument("--features", help="comma-separated feature columns (default: all other columns)")
        parser.add_argument("--exclude", help="comma-separated columns left out, e.g. other outcomes")
        parser.add_argument(
            "--outcome-kind", choices=data.OUTCOME_KINDS, default="auto", help="auto: binary when only 0 and 1"
        )
        parser.add_argument("--seed", type=int, default=42)
        parser.add_argument("--test-size", type=float, default=0.3, help="share of rows held out for the test")
        parser.add_argument("--repeats", type=int, default=1, help="redo the split for this many seeds")
        parser.add_argument("--json", dest="json_path", help="also write the report as JSON to this file")
        parser.add_argument("--save", metavar="NAME", help="store the run as an uplift report with this name")

    def handle(self, *args, **options):
        json_path = Path(options["json_path"]) if options["json_path"] else None
        name = options["save"]
        try:
            # Checked first: minutes of training should not end in a failed write.
            if json_path is not None and not json_path.parent.is_dir():
                raise data.InputError(f"cannot write {json_path}: folder {json_path.parent} does not exist")
            if name is not None:
                _check_name(name.strip())
            experiment = data.load_experiment(
                options["file"],
                treatment_col=options["treatment_col"],
                outcome_col=options["outcome_col"],
                control=options["control"],
                features=_names(options["features"]),
                exclude=_names(options["exclude"]) or (),
                outcome_kind=options["outcome_kind"],
            )
            report, curves = evaluate.evaluate_with_curves(
                experiment, seed=options["seed"], test_size=options["test_size"], repeats=options["repeats"]
            )
        except data.InputError as error:
            raise CommandError(str(error), returncode=INPUT_ERROR_EXIT_CODE) from error
        self.stdout.write(evaluate.format_report(report))
        if json_path is not None:
            try:
                json_path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
            except OSError as error:
                raise CommandError(f"cannot write {json_path}: {error}", returncode=INPUT_ERROR_EXIT_CODE) from error
        if name is not None:
            with transaction.atomic():
                saved = UpliftReport.from_run(name.strip(), report, curves)
                saved.save()
            self.stdout.write(f"Saved as uplift report #{saved.pk} {saved.name!r}")
