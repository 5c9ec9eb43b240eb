"""Import of the Online Retail history: rows per second and peak memory at two file sizes.

Run from the repository root (PostgreSQL on 127.0.0.1; the shared datasets beside the repo):
    .venv/bin/python benchmarks/import_history.py [DATASETS_DIR]

Imports the first half of interactions.csv.gz, then the whole file, each into an empty event
table in a fresh process, and reports rows/s and the process's peak resident memory. Memory must
not grow with the file size: the ratio of the two peaks is printed. The baseline measured in the
same run is reading and parsing the whole file with the csv module alone.
"""

import csv
import gzip
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _setup import ROOT, django_env, ensure_database, load_catalogue

CHILD = """
import resource, sys, time
from pathlib import Path
from zoneinfo import ZoneInfo
import django
django.setup()
from promotions.tracking.importer import import_events
from promotions.tracking.models import Event, Visitor
Event.objects.all().delete(); Visitor.objects.all().delete()
started = time.perf_counter()
report = import_events(Path(sys.argv[1]), zone=ZoneInfo("Europe/London"))
elapsed = time.perf_counter() - started
peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(report.imported, elapsed, peak_mb)
"""


def run_import(path: Path, env: dict[str, str]) -> tuple[int, float, float]:
    result = subprocess.run(
        [sys.executable, "-c", CHILD, str(path)], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    imported, elapsed, peak = result.stdout.split()[-3:]
    return int(imported), float(elapsed), float(peak)


def main(datasets: Path) -> None:
    source = datasets / "online-retail" / "interactions.csv.gz"
    env = django_env()
    ensure_database(env)
    load_catalogue(env, datasets)
    with gzip.open(source, "rt", encoding="utf-8") as handle:
        lines = handle.readlines()
    started = time.perf_counter()
    with gzip.open(source, "rt", encoding="utf-8", newline="") as handle:
        parsed = sum(1 for _ in csv.DictReader(handle))
    parse_seconds = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as folder:
        half = Path(folder) / "half.csv.gz"
        with gzip.open(half, "wt", encoding="utf-8") as handle:
            handle.writelines(lines[: 1 + (len(lines) - 1) // 2])
        del lines
        figures = {"half file": run_import(half, env), "whole file": run_import(source, env)}
    print("Import of interactions.csv.gz into PostgreSQL (two streaming passes, idempotency check per batch)")
    print(f"  baseline, csv parsing alone of the whole file: {parsed / parse_seconds:,.0f} rows/s")
    for name, (imported, seconds, peak) in figures.items():
        rate = imported / seconds
        print(f"  {name:10s} {imported:9,} rows in {seconds:6.1f} s = {rate:8,.0f} rows/s, peak {peak:6.0f} MB")
    ratio = figures["whole file"][2] / figures["half file"][2]
    print(f"  peak memory whole / half: {ratio:.2f} (constant memory means about 1)")
    print(f"  import / csv parsing time ratio: {figures['whole file'][1] / parse_seconds:.1f}x")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared" / "datasets")
