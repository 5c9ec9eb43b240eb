"""The embedded Celery worker and beat that run the app's periodic work without a broker.

Without ``CELERY_BROKER_URL``, Celery uses kombu's filesystem transport in ``var/celery``:
``manage.py demo`` starts one worker process with an embedded beat, so buffered events are
flushed, expired data purged and models trained on schedule, outside the web process.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping

from django.conf import settings


def uses_embedded_broker() -> bool:
    return settings.CELERY_BROKER_URL == "filesystem://"


def start_embedded_worker(env: Mapping[str, str] | None = None, log_file=None) -> subprocess.Popen:
    """Start ``celery worker --beat`` (one process, solo pool) over the filesystem transport.

    Beat's schedule file comes from the worker's own settings (``SHOP_VAR_DIR``).
    """
    command = [
        sys.executable, "-m", "celery", "-A", "shop_demo", "worker", "--beat", "--pool=solo",
        "--loglevel=INFO", "--without-gossip", "--without-mingle", "--without-heartbeat",
    ]  # fmt: skip
    return subprocess.Popen(  # noqa: S603 - our own interpreter and fixed arguments
        command,
        cwd=settings.BASE_DIR,
        env={**(env if env is not None else os.environ), "CELERY_TASK_ALWAYS_EAGER": "0"},
        stdout=log_file or subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
