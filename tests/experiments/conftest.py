"""The Hillstrom e-mail experiment and its frozen reference figures."""

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
