import gzip
from pathlib import Path

import pytest


def write_csv(path: Path, text: str) -> Path:
    if path.suffix == ".gz":
        with gzip.open(path, "wt", encoding="utf-8") as handle:
            handle.write(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


# Ten rows; sorted timestamps: t_cut = ts[floor(0.8 * 10)] = ts[8] = 2024-01-09.
# Two rows sit exactly at t_cut (u1-c, u3-a): ties go to test.
TINY = """user_id,item_id,timestamp,event,quantity,price
u1,a,2024-01-01,purchase,1,2.0
u1,b,2024-01-02 10:00:00,purchase,2,2.0
u2,a,2024-01-03T00:00:00,purchase,1,2.0
u2,b,2024-01-04,purchase,1,2.0
u3,c,2024-01-05,purchase,1,2.0
u2,c,2024-01-06,purchase,1,2.0
u4,b,2024-01-07,purchase,1,2.0
u1,c,2024-01-09,purchase,1,2.0
u3,a,2024-01-09,purchase,1,2.0
u4,z,2024-01-10,purchase,1,2.0
"""


@pytest.fixture
def tiny_csv(tmp_path: Path) -> Path:
    return write_csv(tmp_path / "tiny.csv", TINY)
