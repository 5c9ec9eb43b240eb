"""Uplift test helpers: a synthetic experiment whose true uplift is known per customer, as arrays or a CSV."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from threadpoolctl import threadpool_limits


@pytest.fixture(autouse=True)
def one_thread():
    # The shared 2-core test machine: OpenMP threads of the tree models would only fight.
    with threadpool_limits(1):
        yield


def synthetic_experiment(n: int = 4000, seed: int = 0, spend: bool = False):
    """Features, 0/1 treatment, outcome and true uplift.

    Persuadables (x0 > 0.5) respond to the treatment (+0.3 probability, or +20 spend), "sleeping
    dogs" (x2 > 1.2) are put off by it (-0.2, or -10); the baseline depends on x1 only, so a model
    of the outcome alone would rank the wrong customers first.
    """
    rng = np.random.default_rng(seed)
    features = rng.normal(size=(n, 4))
    treatment = rng.integers(0, 2, n)
    persuadable = features[:, 0] > 0.5
    sleeping_dog = ~persuadable & (features[:, 2] > 1.2)
    base = 0.2 + 0.15 * (features[:, 1] > 0)
    if spend:
        uplift = np.where(persuadable, 20.0, np.where(sleeping_dog, -10.0, 0.0))
        outcome = np.maximum(0.0, 30 * base + rng.normal(0, 5, n) + treatment * uplift) * (rng.random(n) < 0.5)
        uplift = uplift * 0.5
    else:
        uplift = np.where(persuadable, 0.3, np.where(sleeping_dog, -0.2, 0.0))
        outcome = (rng.random(n) < base + treatment * uplift).astype(float)
    return features, treatment, outcome, uplift


def write_csv(path, header, rows):
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.fixture
def experiment_csv(tmp_path):
    features, treatment, outcome, _ = synthetic_experiment(n=2400, seed=4)
    rows = [
        ("promo" if flag else "control", *np.round(row, 3), ["web", "phone"][i % 2], int(y), round(5.0 * y, 2))
        for i, (row, flag, y) in enumerate(zip(features, treatment, outcome, strict=True))
    ]
    return write_csv(tmp_path / "experiment.csv", ["arm", "x0", "x1", "x2", "x3", "channel", "bought", "spend"], rows)
