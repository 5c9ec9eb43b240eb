"""Rolling-origin evaluation: the v1 protocol repeated at monthly cut points through the log.

One test month can flatter a model (Online Retail's December rewards freshness), so a choice made
on it may not hold in the next season or in another shop. Here each cut point is the first
instant (UTC) of a calendar month: the rows before it are that cut's train part, the rows of the
month that follows its test part (the last month may be partial: the log ends), rows after that
month are not used, and the protocol's steps 2-4 (``split_at``) give the ground truth. A model is
judged by its figures at every cut point and by their mean with its spread (standard deviation
and standard error across cut points), and against popularity at each cut point by the paired
per-user NDCG difference with its standard error.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np

from .data import InteractionLog
from .protocol import ModelResult
from .split import Split, SplitError, split_at


@dataclass(frozen=True)
class Cut:
    """A cut point: train = rows before ``start``, test = rows in [``start``, ``end``)."""

    label: str
    start: float
    end: float


def month_starts(first: float, last: float) -> list[float]:
    """The first instants (UTC) of the calendar months after ``first`` up to ``last``."""
    day = datetime.fromtimestamp(first, UTC)
    year, month = day.year, day.month
    starts = []
    while True:
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        stamp = datetime(year, month, 1, tzinfo=UTC).timestamp()
        if stamp > last:
            return starts
        starts.append(stamp)


def monthly_cuts(log: InteractionLog, n: int) -> list[Cut]:
    """The latest ``n`` monthly cut points of the log, oldest first."""
    if n < 1:
        raise SplitError("the number of cut points must be at least 1")
    if not len(log):
        raise SplitError("no interaction rows to split")
    first, last = float(log.timestamps.min()), float(log.timestamps.max())
    starts = month_starts(first, last)
    ends = [*starts[1:], math.nextafter(last, math.inf)]
    cuts = [
        Cut(datetime.fromtimestamp(start, UTC).strftime("%Y-%m"), start, end)
        for start, end in zip(starts, ends, strict=True)
    ]
    if len(cuts) < n:
        raise SplitError(f"the log has {len(cuts)} monthly cut point(s) after its first month; {n} asked for")
    return cuts[-n:]


def cut_split(log: InteractionLog, cut: Cut) -> Split:
    """The protocol's split at ``cut.start`` of the rows before ``cut.end``."""
    before_end = log.timestamps < cut.end
    return split_at(log.subset(before_end), cut.start)


@dataclass(frozen=True)
class Spread:
    """A figure's mean over cut points with its standard deviation and standard error."""

    mean: float
    sd: float
    se: float
    n: int

    def as_json(self) -> dict[str, float]:
        return {"mean": self.mean, "sd": self.sd, "se": self.se, "n": self.n}


def spread(values: Sequence[float]) -> Spread:
    """Mean, sample standard deviation (n - 1) and standard error sd / sqrt(n); 0 spread for one value."""
    array = np.asarray(values, dtype=float)
    if not len(array):
        return Spread(math.nan, math.nan, math.nan, 0)
    sd = float(np.std(array, ddof=1)) if len(array) > 1 else 0.0
    return Spread(float(array.mean()), sd, sd / math.sqrt(len(array)), len(array))


def paired_difference(model: np.ndarray, baseline: np.ndarray) -> Spread:
    """The mean per-user NDCG difference (model - baseline) on the same users, with its spread."""
    if len(model) != len(baseline):
        raise ValueError("paired figures need the same users")
    return spread(np.asarray(model, dtype=float) - np.asarray(baseline, dtype=float))


@dataclass
class CutResult:
    cut: Cut
    split: Split
    #: By row label ("popularity", "hybrid", "selected"...): the figures on this cut's test month.
    results: dict[str, ModelResult]
    #: Row label -> the model the pipeline would have activated, for "selected" rows.
    chosen: dict[str, str]

    def versus(self, label: str, baseline: str = "popularity") -> Spread:
        return paired_difference(self.results[label].user_ndcg, self.results[baseline].user_ndcg)

    def below(self, label: str, baseline: str = "popularity") -> bool:
        """Below the baseline beyond one standard error of the paired difference."""
        difference = self.versus(label, baseline)
        return difference.mean + difference.se < 0


METRICS = ("ndcg", "recall", "hr", "precision", "map", "coverage")


def summary(cuts: Sequence[CutResult], label: str) -> dict[str, Spread]:
    """Each metric of one row over the cut points where it was scored."""
    rows = [c.results[label] for c in cuts if label in c.results]
    return {metric: spread([row.metrics[metric] for row in rows]) for metric in METRICS}


def labels(cuts: Sequence[CutResult]) -> list[str]:
    return list(dict.fromkeys(label for c in cuts for label in c.results))


def as_json(cuts: Sequence[CutResult], k: int) -> dict[str, Any]:
    """``cuts``: per cut point its split figures and each row's metrics and difference to
    popularity; ``models``: per row the mean, sd and se of each metric over the cut points."""
    document: dict[str, Any] = {"protocol": "temporal-v1 rolling-origin (monthly)", "k": k, "cuts": [], "models": {}}
    for c in cuts:
        rows = {}
        for label, result in c.results.items():
            difference = c.versus(label) if "popularity" in c.results else None
            rows[label] = {
                **{metric: result.metrics[metric] for metric in METRICS},
                "fit_seconds": result.fit_seconds,
                "params": result.params,
                **({"model": c.chosen[label]} if label in c.chosen else {}),
                **(
                    {"vs_popularity": {**difference.as_json(), "below": c.below(label)}}
                    if difference is not None
                    else {}
                ),
            }
        document["cuts"].append(
            {
                "cut": c.cut.label,
                "start": datetime.fromtimestamp(c.cut.start, UTC).isoformat(),
                "end": datetime.fromtimestamp(c.cut.end, UTC).isoformat(),
                "train_rows": len(c.split.train),
                "test_rows": len(c.split.test),
                "train_users": len(c.split.users),
                "users": len(c.split.truth),
                "items": len(c.split.items),
                "models": rows,
            }
        )
    for label in labels(cuts):
        figures = summary(cuts, label)
        below = [c.cut.label for c in cuts if label in c.results and "popularity" in c.results and c.below(label)]
        document["models"][label] = {
            **{metric: figures[metric].as_json() for metric in METRICS},
            "below_popularity_at": below,
        }
    return document


def table(cuts: Sequence[CutResult], k: int) -> str:
    """NDCG@K per cut point (one column each) and its mean ± SE, one row per model."""
    names = labels(cuts)
    header = ["model", *[c.cut.label for c in cuts], "mean", "sd", "se", "below pop."]
    lines = [header]
    for label in names:
        cells = []
        for c in cuts:
            if label not in c.results:
                cells.append("-")
                continue
            mark = "*" if "popularity" in c.results and c.below(label) else ""
            chosen = f" {c.chosen[label][:4]}" if label in c.chosen else ""
            cells.append(f"{c.results[label].metrics['ndcg']:.4f}{mark}{chosen}")
        figures = summary(cuts, label)["ndcg"]
        below = sum(1 for c in cuts if label in c.results and "popularity" in c.results and c.below(label))
        lines.append([label, *cells, f"{figures.mean:.4f}", f"{figures.sd:.4f}", f"{figures.se:.4f}", str(below)])
    widths = [max(len(row[i]) for row in lines) for i in range(len(header))]
    rendered = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)) for row in lines]
    users = ", ".join(f"{c.cut.label}: {len(c.split.truth)}" for c in cuts)
    return (
        f"Rolling-origin NDCG@{k} (monthly cut points; * below popularity beyond one standard error of the "
        f"paired per-user difference)\nevaluated users per cut point: {users}\n" + "\n".join(rendered) + "\n"
    )
