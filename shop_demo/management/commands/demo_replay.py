"""``manage.py demo_replay [--visitors N] [--days D] [--seed S]``: held-out shoppers visit the demo.

See ``shop_demo.replay`` (and docs/replay.md) for what a simulated shopper does. Needs the demo
set up (``manage.py demo``, which keeps the last ``HOLDOUT_DAYS`` days out of training). Prints
each experiment's figures from the statistics engine, the holdout lift and the bandit's shares.
Bad input exits with code 2 and one line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from promotions.experiments.models import Experiment
from promotions.experiments.results import experiment_results
from promotions.management.progress import ProgressBar
from promotions.offers.models import SlotConfig
from promotions.serving.lift import holdout_lift
from shop_demo import replay
from shop_demo.catalog.loading import INTERACTIONS_FILE, SAMPLE_HISTORY, dataset_file
from shop_demo.measurement import BANDIT_SLOT, EXPERIMENTS

INPUT_ERROR = 2


def _percent(value: Any) -> str:
    return "-" if value is None else f"{100 * float(value):+.2f}%"


class Command(BaseCommand):
    help = "Replay held-out Online Retail customers as simulated shoppers through the demo shop."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--visitors", type=int, default=replay.DEFAULT_VISITORS, help="shoppers to replay (default: %(default)s)"
        )
        parser.add_argument(
            "--days",
            type=int,
            default=replay.HOLDOUT_DAYS,
            help="replay the customers of the last D days of the history, at most the %(default)s held out of training",
        )
        parser.add_argument("--seed", type=int, default=replay.DEFAULT_SEED, help="(default: %(default)s)")
        parser.add_argument(
            "--datasets", type=Path, default=settings.SHOP_DATASETS_DIR, help="folder holding online-retail/"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        visitors, days, seed = options["visitors"], options["days"], options["seed"]
        if visitors < 1:
            raise CommandError("--visitors must be at least 1", returncode=INPUT_ERROR)
        if not 1 <= days <= replay.HOLDOUT_DAYS:
            raise CommandError(
                f"--days must be from 1 to {replay.HOLDOUT_DAYS} (the days the demo keeps out of training)",
                returncode=INPUT_ERROR,
            )
        missing = [key for key in EXPERIMENTS if not Experiment.objects.filter(key=key).exists()]
        if missing:
            raise CommandError(
                f"experiment {missing[0]!r} not found: set the demo up first (manage.py demo --no-serve)",
                returncode=INPUT_ERROR,
            )
        source = dataset_file(options["datasets"], INTERACTIONS_FILE, SAMPLE_HISTORY)
        split = replay.split_history(source, days)
        shoppers = replay.choose_shoppers(split.shoppers, visitors, seed)
        if not shoppers:
            raise CommandError(f"no customer bought in the last {days} days of {source}", returncode=INPUT_ERROR)
        self.stdout.write(
            f"Replaying {len(shoppers):,} of the {len(split.shoppers):,} customers who bought from "
            f"{split.cut:%Y-%m-%d} on (seed {seed})"
        )
        bar = ProgressBar(self.stdout, "  shoppers")
        try:
            report = replay.replay(shoppers, seed, progress=bar)
        finally:
            bar.close()
        self.stdout.write(
            f"  {report.visitors:,} visitors, {report.orders:,} orders in {report.seconds:.0f} s; products added: "
            f"{report.added_shown:,} shown and really bought, {report.added_impulse:,} shown on impulse, "
            f"{report.added_found:,} found by the shopper; {report.errors:,} failed requests"
        )
        self.stdout.write("  " + replay.save_uplift_report(report, shoppers, seed, Path(settings.VAR_DIR) / "demo"))
        self.summary()

    def summary(self) -> None:
        for key in EXPERIMENTS:
            results = experiment_results(Experiment.objects.get(key=key))
            self.stdout.write(f"Experiment {key} ({results.metric}):")
            for result in results.variants:
                line = f"  {result.variant.key:>18}: {result.conversions:,} / {result.units:,} converted"
                comparison = result.comparison
                if comparison is not None:
                    line += (
                        f", lift {_percent(comparison.rel_lift)} "
                        f"[{_percent(comparison.rel_ci_low)}, {_percent(comparison.rel_ci_high)}]"
                    )
                    if result.p_value_adjusted is not None:
                        line += f", p {result.p_value_adjusted:.4f}"
                self.stdout.write(line)
        lift = holdout_lift()
        line = (
            f"Holdout: personalized {int(lift.personalized.successes):,} / {int(lift.personalized.n):,}, "
            f"holdout {int(lift.holdout.successes):,} / {int(lift.holdout.n):,} converted"
        )
        if lift.conversion is not None:
            conversion = lift.conversion
            line += (
                f", lift {_percent(conversion.rel_lift)} "
                f"[{_percent(conversion.rel_ci_low)}, {_percent(conversion.rel_ci_high)}]"
            )
        self.stdout.write(line)
        bandit = SlotConfig.objects.filter(slot=BANDIT_SLOT, bandit=True).first()
        if bandit is not None:
            shares = ", ".join(f"{key}: {float(share):.2f}" for key, share in sorted(bandit.weights.items()))
            self.stdout.write(f"Bandit slot {BANDIT_SLOT!r} shares by promotion id: {shares or '-'}")
