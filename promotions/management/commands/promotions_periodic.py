"""``manage.py promotions_periodic``: the app's periodic work, once, for shops without Celery beat.

Run it from cron every minute (``* * * * * cd /srv/shop && python manage.py promotions_periodic``):
each task of ``promotions.schedules.BEAT_SCHEDULE`` runs in this process when its interval has
passed since it last ran (``--all`` runs every task now, ``--task NAME`` one of them). When each task
last ran is kept in a small JSON file (``--state-file``), locked while the command runs, so two cron
runs never overlap. A task that fails is reported and the others still run. Exit codes: 0 done (or
another run holds the lock), 1 a task failed, 2 bad input.
"""

from __future__ import annotations

import fcntl
import json
import logging
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from celery import current_app
from django.core.management.base import BaseCommand, CommandError, CommandParser

from promotions import tasks as _tasks  # noqa: F401 - registers the tasks with Celery
from promotions.schedules import BEAT_SCHEDULE

logger = logging.getLogger(__name__)
DEFAULT_STATE_FILE = Path(tempfile.gettempdir()) / "promotions-periodic.json"


def _read_state(handle: Any) -> dict[str, float]:
    handle.seek(0)
    try:
        state = json.loads(handle.read() or "{}")
    except ValueError:  # a damaged file: every task counts as never run
        return {}
    return {str(k): float(v) for k, v in state.items() if isinstance(v, int | float)} if isinstance(state, dict) else {}


def _write_state(handle: Any, state: dict[str, float]) -> None:
    handle.seek(0)
    handle.truncate()
    handle.write(json.dumps(state, indent=1, sort_keys=True))
    handle.flush()


class Command(BaseCommand):
    help = "Run the app's periodic tasks that are due (for cron, where no Celery beat runs)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--all", action="store_true", help="run every task now, due or not")
        parser.add_argument("--task", action="append", default=[], help="run this task now (repeatable)")
        parser.add_argument("--state-file", default=str(DEFAULT_STATE_FILE), help="where the last runs are kept")

    def handle(self, *args: Any, **options: Any) -> None:
        tasks = {entry["task"]: float(entry["schedule"]) for entry in BEAT_SCHEDULE.values()}
        unknown = [name for name in options["task"] if name not in tasks]
        if unknown:
            raise CommandError(f"Unknown task {unknown[0]!r}; known: {', '.join(sorted(tasks))}.", returncode=2)
        path = Path(options["state_file"])
        try:
            handle = path.open("a+")
        except OSError as exc:
            raise CommandError(f"Cannot open the state file {path}: {exc.strerror}.", returncode=2) from exc
        with handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                self.stdout.write(f"Another run holds {path}; nothing done.")
                return
            state = _read_state(handle)
            failed = self._run(tasks, state, handle, options)
        if failed:
            raise CommandError(f"{len(failed)} task(s) failed: {', '.join(failed)} (see the log).", returncode=1)

    def _run(self, tasks: dict[str, float], state: dict[str, float], handle: Any, options: dict) -> list[str]:
        failed = []
        for name, interval in tasks.items():
            now = time.time()
            wanted = options["all"] or name in options["task"]
            due = not options["task"] and now - state.get(name, 0.0) >= interval
            if not (wanted or due):
                continue
            started = time.monotonic()
            try:
                result = current_app.tasks[name].run()
            except Exception:
                logger.exception("promotions: periodic task %s failed", name)
                failed.append(name)
                self.stderr.write(f"{name}: failed ({sys.exc_info()[1]!r})")
            else:
                self.stdout.write(f"{name}: {result!r} ({time.monotonic() - started:.1f}s)")
            state[name] = now  # a failing task waits for its next turn too: no retry storm from cron
            _write_state(handle, state)
        return failed
