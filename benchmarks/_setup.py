"""Shared set-up of the benchmarks: a Django environment on a dedicated database."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: Overridable (``BENCH_DATABASE_URL``), so that runs from several checkouts on one machine do not meet.
BENCH_DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/promotions_bench")


def django_env(database_url: str | None = None, **extra: str) -> dict[str, str]:
    """Environment for a benchmark subprocess (or this process) on the benchmark database."""
    env = {key: value for key, value in os.environ.items() if key not in {"CELERY_BROKER_URL"}}
    env.update(DJANGO_SETTINGS_MODULE="shop_demo.settings", DATABASE_URL=database_url or BENCH_DATABASE_URL)
    # As in production: DEBUG off (it would also keep a log of every query in memory).
    env.update(DJANGO_DEBUG="0", DJANGO_SECRET_KEY="benchmark-only-key")
    env["PYTHONPATH"] = str(ROOT)
    env.update(extra)
    return env


def ensure_database(env: dict[str, str]) -> None:
    """Create the PostgreSQL database when missing, then migrate it."""
    url = env["DATABASE_URL"]
    if url.startswith("postgres"):
        name = url.rsplit("/", 1)[1]
        subprocess.run(
            ["psql", "-h", "127.0.0.1", "-U", "postgres", "-q", "-c", f"CREATE DATABASE {name}"],
            capture_output=True,
            check=False,
        )
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)


def setup_django(env: dict[str, str]) -> None:
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def load_catalogue(env: dict[str, str], datasets: Path | None = ROOT.parent / "shared" / "datasets") -> None:
    """Load the demo catalogue (the built-in sample when ``datasets`` is None) into the benchmark database."""
    code = (
        "import django, sys; from pathlib import Path; django.setup();"
        " from shop_demo.catalog.loading import load_catalogue;"
        " load_catalogue(Path(sys.argv[1]) if sys.argv[1] else None)"
    )
    subprocess.run([sys.executable, "-c", code, str(datasets or "")], cwd=ROOT, env=env, check=True)
