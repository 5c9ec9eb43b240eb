"""Campaign export cost per customer on the demo shop's data, against the serving it wraps.

Needs a database prepared by ``manage.py demo --no-serve`` (the full Online Retail catalogue and
history, shifted to end yesterday, the example promotions, trained models), named by
``DATABASE_URL``. A "recent" campaign of the last ``--days`` days is made (and deleted after):
its segment is computed and timed; then the customers it would send to are served cold (their
first request in this process), alternately through the export (``campaigns.export.customer_row``:
serving, links, codes) and through the serving calls alone (``campaigns.export.served``:
``personalized_promotions``, ``recommendations_for``), the baseline. The ratio of the medians is
the export's own cost; the whole export's time is estimated from the segment's size.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/promotions_demo \\
        .venv/bin/python benchmarks/campaign_export.py [--days 30] [--customers 400]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks._setup import django_env, setup_django  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main(days: int, sample: int) -> None:
    setup_django(django_env(os.environ.get("DATABASE_URL")))
    from django.utils import timezone

    from promotions.campaigns.export import customer_request, customer_row, served
    from promotions.campaigns.models import Campaign
    from promotions.campaigns.segments import segment_customers
    from promotions.tracking.models import Event

    campaign = Campaign.objects.create(name="benchmark", segment="recent", days=days, holdout_share=0.1)
    try:
        purchases = Event.objects.filter(event_type="purchase").count()
        started = time.perf_counter()
        customers = segment_customers(campaign, timezone.now())
        segment_seconds = time.perf_counter() - started
        treated = [c for c in customers if not campaign.holds_out(c.key)]
        print(
            f"Segment 'bought in the last {days} days' over {purchases:,} purchase events: "
            f"{len(customers):,} customers ({len(customers) - len(treated):,} held out) in {segment_seconds:.2f} s"
        )
        chosen = random.Random(0).sample(treated, min(sample, len(treated)))
        half = len(chosen) // 2
        expires = int(time.time()) + 86400

        def serve(customer) -> None:
            served(campaign, customer_request(customer))

        def export(customer) -> None:
            customer_row(campaign, customer, "https://shop.example", expires)

        export(chosen[0])  # loads the model and the catalogue once, as any first request does
        timings: dict[str, list[float]] = {"serving only (baseline)": [], "export row": []}
        for index, customer in enumerate(chosen[1:]):
            # Alternated, so that both see the process's shared caches alike.
            name, call = ("export row", export) if index % 2 == 0 else ("serving only (baseline)", serve)
            started = time.perf_counter()
            call(customer)
            timings[name].append((time.perf_counter() - started) * 1000)
        print(f"Per customer, cold, {half:,} customers each (ms):")
        for name, values in timings.items():
            print(f"  {name:<26} p50 {statistics.median(values):7.2f}  p99 {percentile(values, 0.99):7.2f}")
        ratio = statistics.median(timings["export row"]) / statistics.median(timings["serving only (baseline)"])
        estimate = statistics.mean(timings["export row"]) * len(treated) / 1000 + segment_seconds
        print(f"  export / serving (p50): {ratio:.2f}; whole export of {len(treated):,} rows about {estimate:.0f} s")
    finally:
        campaign.delete()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--customers", type=int, default=400)
    arguments = parser.parse_args()
    main(arguments.days, arguments.customers)
