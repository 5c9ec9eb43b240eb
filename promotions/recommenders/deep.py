"""What the TensorFlow-trained models share: their per-epoch training curve and TensorBoard logs,
and the days on which items went on sale (the release rule of their training softmax).

Nothing here imports TensorFlow: the training code passes its ``tf`` module in, so serving (and
this module) stays free of it.
"""

from __future__ import annotations

from types import ModuleType

import numpy as np

from .matrix import Interactions

SECONDS_PER_DAY = 86400.0


def event_days(interactions: Interactions) -> np.ndarray:
    """Each row's day, counted from 1 = the first moment of the data (fractional: a day's time counts)."""
    timestamps = interactions.timestamps
    start = timestamps.min() if len(timestamps) else 0.0
    return 1.0 + (timestamps - start) / SECONDS_PER_DAY


def release_days(interactions: Interactions, item_ids: np.ndarray) -> np.ndarray:
    """Each of ``item_ids``' release: the day (``event_days``) anyone first chose it; 0 for an item
    without rows. ``item_ids`` is sorted and holds every item of ``interactions``.

    The deep models contrast a choice only with items released by its day: otherwise an item launched
    last month is a negative for every choice of the year before it existed and learns to lose.
    """
    released = np.full(len(item_ids), np.inf)
    positions = np.searchsorted(item_ids, interactions.item_ids)[interactions.item_codes]
    np.minimum.at(released, positions, event_days(interactions))
    released[~np.isfinite(released)] = 0.0
    return released.astype(np.float32)


class EpochLog:
    """Mean training loss per epoch, kept for the model's ``loss_curve``; with a ``log_dir``, also
    written as TensorBoard scalars (``loss``, ``epoch_seconds``) as each epoch ends, so a long
    training can be watched while it runs."""

    def __init__(self, tf: ModuleType, log_dir: str | None):
        self.tf = tf
        self.losses: list[float] = []
        self.writer = tf.summary.create_file_writer(log_dir) if log_dir else None
        if self.writer is not None:
            # tf.summary.scalar needs the tensorboard package; this is the record it would write
            # (a float tensor tagged for TensorBoard's scalars plugin), with TensorFlow alone.
            from tensorflow.core.framework.summary_pb2 import SummaryMetadata

            metadata = SummaryMetadata()
            metadata.plugin_data.plugin_name = "scalars"
            self.metadata = metadata.SerializeToString()

    def epoch(self, number: int, loss: float, seconds: float) -> None:
        self.losses.append(loss)
        if self.writer is not None:
            with self.writer.as_default():
                for tag, value in (("loss", loss), ("epoch_seconds", seconds)):
                    self.tf.summary.write(tag, self.tf.constant(value, self.tf.float32), number, self.metadata)
            self.writer.flush()

    def curve(self) -> np.ndarray:
        if self.writer is not None:
            self.writer.close()
        return np.array(self.losses, dtype=np.float64)
