"""Uplift models from the promotions' own randomized holdouts.

``manage.py promotions_train_uplift [--promotion ID ...] [--days 90] [--min-per-arm 200] [--seed 0]``
does what the daily ``promotions.train_uplift_models`` task does and prints one line per promotion:
the visitors shown and withheld, and the new model's Qini coefficient and AUUC on held-out visitors,
or why no model was trained. Bad input exits with code 2 and one line.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from promotions.conf import app_settings
from promotions.offers.models import Promotion
from promotions.uplift.app_data import train_uplift_models

INPUT_ERROR_EXIT_CODE = 2


def _figure(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


class Command(BaseCommand):
    help = (
        "Train each promotion's uplift model (logistic T-learner) on the visitors its uplift holdout showed it "
        "to and withheld it from, and report the Qini coefficient and AUUC on held-out visitors."
    )

    def add_arguments(self, parser):
        parser.add_argument("--promotion", type=int, action="append", help="only this promotion id (repeatable)")
        parser.add_argument("--days", type=int, help="assignments of the last N days (UPLIFT_TRAINING_DAYS)")
        parser.add_argument("--min-per-arm", type=int, help="visitors needed per arm (UPLIFT_MIN_PER_ARM)")
        parser.add_argument("--seed", type=int, default=0, help="seed of the held-out split")

    def handle(self, *args, **options):
        days = options["days"] if options["days"] is not None else app_settings.UPLIFT_TRAINING_DAYS
        minimum = options["min_per_arm"] if options["min_per_arm"] is not None else app_settings.UPLIFT_MIN_PER_ARM
        ids = options["promotion"]
        if days < 1:
            raise CommandError("--days must be at least 1", returncode=INPUT_ERROR_EXIT_CODE)
        if minimum < 10:
            raise CommandError("--min-per-arm must be at least 10", returncode=INPUT_ERROR_EXIT_CODE)
        if ids:
            missing = sorted(set(ids) - set(Promotion.objects.filter(pk__in=ids).values_list("pk", flat=True)))
            if missing:
                raise CommandError(f"no promotion with id {missing[0]}", returncode=INPUT_ERROR_EXIT_CODE)
        outcomes = train_uplift_models(days=days, min_per_arm=minimum, promotion_ids=ids, seed=options["seed"])
        if not outcomes:
            self.stdout.write(f"No promotion logged uplift assignments in the last {days} days.")
            return
        names = dict(Promotion.objects.filter(pk__in=[o.promotion_id for o in outcomes]).values_list("pk", "name"))
        self.stdout.write(f"{'promotion':<32} {'shown':>7} {'withheld':>8} {'qini':>7} {'auuc':>7}  result")
        for outcome in outcomes:
            label = f"{outcome.promotion_id} {names.get(outcome.promotion_id, '?')}"[:32]
            model = outcome.model
            qini, auuc = (model.qini, model.auuc) if model is not None else (None, None)
            result = "trained" if model is not None else f"skipped: {outcome.skipped}"
            self.stdout.write(
                f"{label:<32} {outcome.n_treated:>7} {outcome.n_control:>8} {_figure(qini):>7} {_figure(auuc):>7}  "
                f"{result}"
            )
