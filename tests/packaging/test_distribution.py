"""The app installs on its own: its wheel carries migrations, templates and static files, and no demo code."""

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from django.conf import settings

APP = Path(settings.BASE_DIR) / "promotions"


def test_wheel_carries_the_app_files_and_nothing_of_the_demo(tmp_path):
    subprocess.run(  # noqa: S603
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(tmp_path), "."],
        cwd=settings.BASE_DIR,
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("django_promotions-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {
        str(path.relative_to(APP.parent))
        for folder in ("migrations", "templates", "static", "locale")
        for path in (APP / folder).rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }
    assert expected and expected <= names
    assert not any(name.startswith(("shop_demo/", "tests/", "benchmarks/")) for name in names)


def test_the_app_never_imports_the_demo_shop():
    offenders = [str(path) for path in APP.rglob("*.py") if "shop_demo" in path.read_text(encoding="utf-8")]
    assert offenders == []


@pytest.mark.django_db
def test_migrations_are_committed_and_follow_the_swappable_product_model():
    from io import StringIO

    from django.core.management import call_command

    call_command("makemigrations", "--check", "--dry-run", stdout=StringIO())  # exits non-zero on changes
    migration = (APP / "migrations" / "0001_initial.py").read_text(encoding="utf-8")
    assert "settings.PROMOTIONS_PRODUCT_MODEL" in migration
