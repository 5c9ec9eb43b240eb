"""What the TensorFlow-trained models share: their per-epoch training curve and TensorBoard logs.

Nothing here imports TensorFlow: the training code passes its ``tf`` module in, so serving (and
this module) stays free of it.
"""

from __future__ import annotations

from types import ModuleType

import numpy as np


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
