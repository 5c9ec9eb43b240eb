"""python manage.py demo: set up the demo shop with personalization and serve it, in one command."""

from __future__ import annotations

import secrets
import signal
import sys
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from promotions.management.progress import ProgressBar
from promotions.tracking.importer import file_digest
from promotions.tracking.models import Event
from promotions.training.models import ModelVersion
from shop_demo import headless, replay, training_state
from shop_demo.catalog.loading import (
    INTERACTIONS_FILE,
    ITEMS_FILE,
    SAMPLE_CATALOGUE,
    SAMPLE_HISTORY,
    dataset_file,
    load_catalogue,
    load_history,
)
from shop_demo.catalog.promotions import create_example_promotions
from shop_demo.embedded import start_embedded_worker, uses_embedded_broker
from shop_demo.measurement import experiment_models, model_versions, set_up_measurement
from shop_demo.replay import already_replayed

STAFF_USERNAME = "admin"


class Command(BaseCommand):
    help = "Migrate, create a staff user, load the catalogue and history, then serve the shop on 127.0.0.1:8000."

    def add_arguments(self, parser):
        parser.add_argument(
            "--datasets",
            type=Path,
            default=settings.SHOP_DATASETS_DIR,
            help="folder holding online-retail/ (default: %(default)s); without it a small sample is loaded",
        )
        parser.add_argument("--no-serve", action="store_true", help="set up, then exit")
        parser.add_argument("--addrport", default="127.0.0.1:8000", help="where to serve (default: %(default)s)")
        parser.add_argument(
            "--reset-password", action="store_true", help="give the staff user a new password (printed once)"
        )
        parser.add_argument(
            "--retrain", action="store_true", help="train the models even when the data and code are unchanged"
        )
        parser.add_argument(
            "--no-replay", action="store_true", help="do not replay the held-out shoppers (docs/replay.md)"
        )

    def handle(self, *args, **options):
        datasets: Path = options["datasets"]
        self.step("Migrating the database")
        call_command("migrate", interactive=False, verbosity=0)
        call_command("createcachetable", verbosity=0)  # the embedded default cache is a database table
        username, password = self.staff_user(reset=options["reset_password"])
        self.load(datasets, retrain=options["retrain"])
        if not options["no_replay"]:
            self.replay(datasets)
        self.stdout.write(self.style.SUCCESS("The demo shop is ready."))
        admin_url = f"http://{options['addrport']}/admin/"
        if password is None:
            self.stdout.write(
                f"  Staff sign-in: {admin_url}  user {username!r}, password as printed when it was created "
                "(--reset-password sets a new one)"
            )
        else:
            self.stdout.write(f"  Staff sign-in: {admin_url}  user {username!r}  password {password!r}")
        headless.create_for_demo(self.stdout, options["addrport"])
        if not options["no_serve"]:
            self.serve(options["addrport"])

    def step(self, text: str) -> None:
        self.stdout.write(self.style.MIGRATE_HEADING(text))

    def staff_user(self, reset: bool = False) -> tuple[str, str | None]:
        """The staff user and its new password; the password is None when the user keeps its own.

        A random password is set when the user is created, when it has none usable, or with
        ``reset``; it is printed once, then kept over restarts.
        """
        user, created = get_user_model().objects.get_or_create(username=STAFF_USERNAME)
        if not (created or reset or not user.has_usable_password()) and user.is_staff and user.is_superuser:
            return STAFF_USERNAME, None
        user.is_staff = user.is_superuser = True
        password = None
        if created or reset or not user.has_usable_password():
            password = secrets.token_urlsafe(9)
            user.set_password(password)
        user.save()
        return STAFF_USERNAME, password

    def load(self, datasets: Path, retrain: bool = False) -> None:
        if not (datasets / "online-retail").is_dir():
            self.stdout.write(f"{datasets}/online-retail not found: loading the built-in sample catalogue")
        self.step("Loading the catalogue")
        bar = ProgressBar(self.stdout, "  products")
        created = load_catalogue(datasets, progress=bar)
        bar.close()
        self.stdout.write(f"  {created:,} products created")

        history = dataset_file(datasets, INTERACTIONS_FILE, SAMPLE_HISTORY)
        self.step(f"Keeping the last {replay.HOLDOUT_DAYS} days of the history out of training, for the replay")
        split = replay.split_history(history, replay.HOLDOUT_DAYS, Path(settings.VAR_DIR) / "demo")
        self.stdout.write(f"  {len(split.shoppers):,} customers bought from {split.cut:%Y-%m-%d} on")

        self.step("Loading the order history before those days (shifted to end yesterday)")
        yesterday = timezone.localdate() - timedelta(days=1)
        bar = ProgressBar(self.stdout, "  order lines")
        lines = load_history(datasets, shift_to=yesterday, progress=bar, path=split.training_file)
        bar.close()
        self.stdout.write(f"  {lines:,} order lines created" if lines else "  history already loaded")

        self.step("Importing that history as behavior events")
        if Event.objects.filter(idempotency_key__startswith=f"import:{file_digest(history)}:").exists():
            # Set up before the replay existed: the whole history is in the events already.
            self.stdout.write("  the whole history was imported before (remove var/ to keep the replay's days out)")
        else:
            call_command("promotions_import_events", str(split.training_file), shift_to=yesterday, stdout=self.stdout)

        self.step("Creating example promotions, experiments and the bandit slot")
        self.stdout.write(f"  {create_example_promotions()} promotions created")
        for line in set_up_measurement():
            self.stdout.write(f"  {line} created")

        self.train(datasets, retrain)

    def train(self, datasets: Path, retrain: bool) -> None:
        """Train, unless the models trained before fit the same data, code and settings."""
        files = [
            dataset_file(datasets, ITEMS_FILE, SAMPLE_CATALOGUE),
            dataset_file(datasets, INTERACTIONS_FILE, SAMPLE_HISTORY),
        ]
        print_ = training_state.fingerprint(
            files, {"holdout_days": replay.HOLDOUT_DAYS, "experiment_models": experiment_models()}
        )
        if not retrain and training_state.models_current(print_):
            self.step("Reusing the trained models (same data, code and settings; --retrain trains again)")
            return
        self.step("Training the recommendation models")
        started = ModelVersion.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        call_command("promotions_train", stdout=self.stdout)
        trained = list(
            ModelVersion.objects.filter(pk__gt=started, status__in=ModelVersion.ACTIVATABLE)
            .exclude(artifact="")
            .values_list("pk", flat=True)
        )
        active = ModelVersion.objects.filter(status=ModelVersion.Status.ACTIVE).values_list("pk", flat=True).first()
        if active is None:
            return
        # Training stored every model the experiments name; each is kept with the state.
        named, missing = model_versions(experiment_models(), newer_than=started)
        for name in missing:
            self.stdout.write(f"  no trained version of {name}: its experiment variant serves best sellers")
        training_state.remember(print_, [*trained, active, *named])

    def replay(self, datasets: Path) -> None:
        if already_replayed():
            self.step("The held-out shoppers were replayed before (manage.py demo_replay replays more)")
            return
        self.step("Replaying held-out shoppers through the shop (docs/replay.md)")
        call_command("demo_replay", datasets=datasets, stdout=self.stdout)

    def serve(self, addrport: str) -> None:
        worker = None
        if uses_embedded_broker():
            self.step("Starting the embedded Celery worker and beat (periodic work)")
            log_path = Path(settings.VAR_DIR) / "celery" / "worker.log"
            log_path.parent.mkdir(parents=True, exist_ok=True)
            worker = start_embedded_worker(log_file=log_path.open("ab"))
            self.stdout.write(f"  log: {log_path}")
            # A plain `kill` ends the demo like Ctrl-C does, so the worker is stopped with it.
            signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        try:
            # DEBUG is off unless the environment turns it on: runserver serves static files anyway.
            call_command("runserver", addrport, use_reloader=False, insecure_serving=True)
        except KeyboardInterrupt:
            pass
        except Exception as exc:  # a taken port, for example: one readable line
            raise CommandError(str(exc)) from exc
        finally:
            if worker is not None:
                worker.terminate()
                worker.wait(timeout=30)
