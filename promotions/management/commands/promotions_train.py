"""``manage.py promotions_train [--models a,b]``: one training run in this process (see ``promotions.training``).

Prints each model's validation figures and which version is active afterwards. Exit codes: 0 done
(or nothing to train), 1 the run failed or another is in progress (the active version stays),
2 bad input.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from promotions.training.pipeline import K, TrainingInProgressError, UnknownModelError, enabled_models, train
from promotions.training.versions import active_version

from ..progress import ProgressBar


class Command(BaseCommand):
    help = "Train the recommendation models on the event log and activate the best version."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--models", help="comma-separated model names (default: PROMOTIONS['TRAINING_MODELS'])")

    def handle(self, *args: Any, **options: Any) -> None:
        names = [name.strip() for name in options["models"].split(",")] if options["models"] else None
        try:
            enabled_models(names)
        except UnknownModelError as error:
            raise CommandError(str(error), returncode=2) from error
        bar = ProgressBar(self.stdout, _("Scoring models"))
        try:
            version = train(names, progress=bar)
        except TrainingInProgressError as error:
            raise CommandError(str(error), returncode=1) from error
        finally:
            bar.close()
        if version is None:
            self.stdout.write(_("No interaction events yet: nothing to train."))
            return
        if version.status == version.Status.FAILED:
            raise CommandError(_("Training failed: %(error)s") % {"error": version.error}, returncode=1)
        for name, figures in version.metrics["candidates"].items():
            self.stdout.write(
                f"{name:>12}  NDCG@{K} {figures['ndcg']:.4f}  Recall@{K} {figures['recall']:.4f}  "
                f"HR@{K} {figures['hr']:.4f}  fit {figures['fit_seconds']:.2f}s"
            )
        active = active_version()
        self.stdout.write(
            _("Version %(id)s: %(model)s, %(status)s. Active version: %(active)s.")
            % {
                "id": version.pk,
                "model": version.model_name,
                "status": version.get_status_display(),
                "active": active if active is not None else _("none"),
            }
        )
