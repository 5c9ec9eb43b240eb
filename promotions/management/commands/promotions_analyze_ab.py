"""Analyse a logged A/B test from a CSV file: ``manage.py promotions_analyze_ab FILE --group-col G --metric-col M``."""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from promotions.experiments.stats import offline

INPUT_ERROR_EXIT_CODE = 2


class Command(BaseCommand):
    help = (
        "Analyse a logged A/B test from a CSV file: per-variant n and mean, lift with confidence interval, "
        "p-value (Holm-adjusted), chance to beat control and the sample-ratio-mismatch check. A metric of "
        "only 0/1 values is a proportion (two-proportion z-test), any other a mean (Welch t-test)."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="CSV file, one row per unit (.csv.gz is read too)")
        parser.add_argument("--group-col", required=True, help="column naming each unit's group")
        parser.add_argument("--metric-col", required=True, help="column with the metric (0/1 or numeric)")
        parser.add_argument("--control", help=f"control group (default: a group named {offline.DEFAULT_CONTROL!r})")
        parser.add_argument("--weights", help="designed split for the SRM check, e.g. control=50,treatment=50")
        parser.add_argument("--covariate-col", help="pre-experiment covariate: turns on CUPED")
        parser.add_argument("--time-col", help="date or day column: orders rows into daily looks (sequential)")
        parser.add_argument("--method", choices=offline.METHODS, default="frequentist")
        parser.add_argument("--json", dest="json_path", help="also write the report as JSON to this file")

    def handle(self, *args, **options):
        try:
            report = self._analyze(options)
        except offline.InputError as error:
            raise CommandError(str(error), returncode=INPUT_ERROR_EXIT_CODE) from error
        self.stdout.write(offline.format_report(report))
        if options["json_path"]:
            Path(options["json_path"]).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")

    @staticmethod
    def _analyze(options) -> dict:
        data = offline.load_experiment(
            options["file"],
            group_col=options["group_col"],
            metric_col=options["metric_col"],
            covariate_col=options["covariate_col"],
            time_col=options["time_col"],
        )
        weights = offline.parse_weights(options["weights"]) if options["weights"] else None
        return offline.analyze(
            data,
            metric=options["metric_col"],
            group_col=options["group_col"],
            control=options["control"],
            weights=weights,
            method=options["method"],
        )
