"""How many BLAS and OpenMP threads fitting and scoring may use (threadpoolctl).

numpy's BLAS starts one thread per core by default. On a small machine shared with web workers,
or in a Celery worker whose siblings do the same, that oversubscribes the cores: an EASE fit on
the online-retail data took 5-8x longer with the default threads than with one
(``benchmarks/threads.py``). So training and evaluation set the count explicitly.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from threadpoolctl import threadpool_info, threadpool_limits


def available_cores() -> int:
    """The cores this process may run on (its CPU affinity, where the platform tells)."""
    if hasattr(os, "sched_getaffinity"):
        return max(len(os.sched_getaffinity(0)), 1)
    return os.cpu_count() or 1


def resolve_threads(setting: Any, in_worker: bool) -> int:
    """The thread count for a ``TRAINING_THREADS`` value: a positive integer is taken as is;
    None (automatic) is one thread inside a Celery worker process (its sibling processes use the
    other cores) and every available core for a run alone (a management command).

    Raises ``ValueError`` for anything else.
    """
    if setting is None:
        return 1 if in_worker else available_cores()
    if isinstance(setting, bool) or not isinstance(setting, int) or setting < 1:
        raise ValueError(f"TRAINING_THREADS must be a positive integer or None (automatic), not {setting!r}")
    return setting


def observed_threads() -> dict[str, int]:
    """The largest thread count threadpoolctl reports per API ("blas", "openmp") right now."""
    observed: dict[str, int] = {}
    for pool in threadpool_info():
        api = str(pool.get("user_api"))
        observed[api] = max(observed.get(api, 0), int(pool.get("num_threads", 0)))
    return observed


@contextmanager
def limited_threads(threads: int) -> Iterator[dict[str, int]]:
    """Run the block with at most ``threads`` BLAS and OpenMP threads; yields what threadpoolctl
    then reports (per API), so a caller can record the limit that actually took effect."""
    with threadpool_limits(limits=threads):
        yield observed_threads()
