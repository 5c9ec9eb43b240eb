"""The offline evaluation protocol (``shared/protocols/recsys-evaluation.md``, temporal-v1).

Pure Python like ``promotions.recommenders``: read the CSV files, split by time, fit, score.
"""

from .compare import Comparison, paired_bootstrap
from .data import DataFormatError, InteractionLog, read_interactions, read_items
from .protocol import ModelResult, complete, evaluate
from .split import Split, SplitError, temporal_split, validation_splits
from .tuning import WINDOWS, tune

__all__ = [
    "WINDOWS",
    "Comparison",
    "DataFormatError",
    "InteractionLog",
    "ModelResult",
    "Split",
    "SplitError",
    "complete",
    "evaluate",
    "paired_bootstrap",
    "read_interactions",
    "read_items",
    "temporal_split",
    "tune",
    "validation_splits",
]
