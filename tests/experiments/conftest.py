"""The Hillstrom e-mail experiment and its frozen reference figures; no global holdout by default."""

import json
from pathlib import Path

import pytest

from tests.conftest import _unavailable

REFERENCE_FILE = Path(__file__).with_name("hillstrom_reference.json")


@pytest.fixture(scope="session")
def hillstrom_csv(datasets_dir: Path) -> Path:
    """The real Hillstrom CSV; skipped when absent, failed when PROMOTIONS_REQUIRE_DATA=1."""
    path = datasets_dir / "hillstrom" / "hillstrom.csv.gz"
    if not path.exists():
        _unavailable(f"The Hillstrom dataset {path}", "PROMOTIONS_REQUIRE_DATA")
    return path


@pytest.fixture(scope="session")
def hillstrom_reference() -> dict:
    """Figures computed independently by make_reference.py with scipy and statsmodels."""
    return json.loads(REFERENCE_FILE.read_text(encoding="utf-8"))


@pytest.fixture(autouse=True)
def no_holdout(settings) -> None:
    """These tests are about enrollment itself: nobody is held out unless a test sets a share."""
    settings.PROMOTIONS = {**settings.PROMOTIONS, "HOLDOUT_SHARE": 0}
