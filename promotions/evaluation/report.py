"""The evaluation's outputs: one text table and the JSON layout of the ``promotions_evaluate`` command."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .protocol import ModelResult
from .split import Split

PROTOCOL = "temporal-v1"


def split_summary(split: Split) -> dict[str, int]:
    return {
        "train_rows": len(split.train),
        "test_rows": len(split.test),
        "train_users": len(split.users),
        "users": len(split.truth),
        "items": len(split.items),
    }


def as_json(split: Split, results: Sequence[ModelResult], k: int) -> dict[str, Any]:
    return {
        "protocol": PROTOCOL,
        "k": k,
        "split": split_summary(split),
        "models": {result.name: result.as_json() for result in results},
    }


def table(results: Sequence[ModelResult], k: int) -> str:
    """One row per model: overall metrics, the cold slices, fit seconds and ms per user."""
    headers = [
        "model",
        f"NDCG@{k}",
        f"Recall@{k}",
        f"HR@{k}",
        f"Prec@{k}",
        f"MAP@{k}",
        f"Cov@{k}",
        "coldU NDCG",
        "coldU HR",
        "coldI HR",
        "coldI Rec",
        "fit s",
        "ms/user",
    ]
    rows = [
        [
            result.name,
            *(f"{result.metrics[name]:.4f}" for name in ("ndcg", "recall", "hr", "precision", "map", "coverage")),
            f"{result.cold_users['ndcg']:.4f}",
            f"{result.cold_users['hr']:.4f}",
            f"{result.cold_items['hr']:.4f}",
            f"{result.cold_items['recall']:.4f}",
            f"{result.fit_seconds:.2f}",
            f"{result.ms_per_user:.3f}",
        ]
        for result in results
    ]
    widths = [max(len(row[column]) for row in [headers, *rows]) for column in range(len(headers))]
    lines = [
        "  ".join(
            cell.rjust(width) if column else cell.ljust(width)
            for column, (cell, width) in enumerate(zip(row, widths, strict=True))
        )
        for row in [headers, *rows]
    ]
    return "\n".join(lines)


def session_table(results: Sequence[ModelResult], k: int) -> str:
    """Next-item prediction within sessions: from the session alone, and with the stored history."""
    measured = [result for result in results if result.sessions is not None]
    if not measured:
        return ""
    points = measured[0].sessions["session_only"]["points"]
    lines = [
        f"Next item within a session ({points} points): session alone | with the user's stored history",
        f"{'model':<12} {f'HR@{k}':>8} {f'MRR@{k}':>8} | {f'HR@{k}':>8} {f'MRR@{k}':>8}",
    ]
    for result in measured:
        alone, known = result.sessions["session_only"], result.sessions["with_user"]
        lines.append(
            f"{result.name:<12} {alone['hr']:8.4f} {alone['mrr']:8.4f} | {known['hr']:8.4f} {known['mrr']:8.4f}"
        )
    return "\n".join(lines)
