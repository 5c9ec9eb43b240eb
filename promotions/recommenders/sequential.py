"""A self-attentive sequential model (SASRec-style): the next item from the visitor's ordered history.

Each user's items, in time order (repeats of the same item in a row collapsed), are the training
sequences; at every position one causal self-attention block reads the items so far and predicts
the next one (softmax over all items, item embeddings shared between input and output).
TensorFlow is imported only in ``_fit``; the trained weights go to numpy and serving runs the
block's forward pass for the last position in numpy.

A known user's sequence is their last ``max_length`` training items; recent ``history`` items are
appended in the order given, so the list follows the session without refitting. Scores are the
softmax probabilities of the next item. The model is not additive, so the reason names the history
item the last position attends to most (the one whose content weighs most in the prediction).
Each epoch's mean loss is kept in ``loss_curve`` (saved with the model) and, given a ``log_dir``,
written to TensorBoard as training goes.

``available_negatives`` (the two-tower model's release rule, ``deep.release_days``): the softmax at
a position leaves out the items not yet on sale when its target was chosen (an item's release is
the first time anyone chose it). Without it, a new item is a negative at every position of the
year before it existed and learns that it loses to everything. On the shared online-retail file's
three validation windows (60/70/80th percentile cuts of the training part, 4,226 users) it lifts
NDCG@10 from 0.071/0.064/0.053 to 0.079/0.067/0.060 (paired +0.0061, standard error 0.0009; with
another seed +0.0072 +- 0.0009) and cold-item HR@10 from 0 to 0.013/0.003/0.012, while the next
item within a session stays where it was (HR@10 +0.0009 +- 0.0008 over 60,000 points; +0.0002
with the other seed). Hence on by default.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Sequence

import numpy as np

from .base import ItemInfo, Reason, Recommendation, Recommender, top_k
from .deep import EpochLog, event_days, release_days
from .matrix import Interactions

WEIGHTS = ("embedding", "position", "w_query", "w_key", "w_value", "w_hidden", "b_hidden", "w_out", "b_out")


def layer_norm(x: np.ndarray) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(x.var(axis=-1, keepdims=True) + 1e-6)


class SequentialRecommender(Recommender):
    """One causal self-attention block over the last ``max_length`` items; ``epochs`` passes."""

    name = "sequential"

    def __init__(
        self,
        dims: int = 64,
        max_length: int = 50,
        epochs: int = 10,
        batch_size: int = 128,
        learning_rate: float = 0.003,
        available_negatives: bool = True,
        verbose: bool = True,
        log_dir: str | None = None,
        random_state: int = 0,
    ):
        # ``max_length`` bounds what the model reads; the history only says what to skip.
        super().__init__(random_state, max_history=None)
        self.dims = dims
        self.max_length = max_length
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.available_negatives = available_negatives
        self.verbose = verbose
        self.log_dir = log_dir

    def _fit(self, interactions: Interactions, infos: dict[str, ItemInfo]) -> None:
        # Items are shifted by one: 0 pads a sequence (on the left, so the last item is at the end).
        order = np.lexsort((interactions.timestamps, interactions.user_codes))
        users, items = interactions.user_codes[order], interactions.item_codes[order] + 1
        days = event_days(interactions)[order]
        keep = np.r_[True, (users[1:] != users[:-1]) | (items[1:] != items[:-1])]
        users, items, days = users[keep], items[keep], days[keep]
        self.sequences = np.zeros((len(self.user_ids), self.max_length), dtype=np.int64)
        # The day each sequence item was chosen (training only: the release rule's clock).
        chosen_on = np.zeros((len(self.user_ids), self.max_length), dtype=np.float32)
        ends = np.r_[np.flatnonzero(users[1:] != users[:-1]), len(users) - 1] if len(users) else []
        starts = np.r_[0, np.asarray(ends[:-1], dtype=np.int64) + 1] if len(users) else []
        for start, end in zip(starts, ends, strict=True):
            first = max(start, end + 1 - self.max_length)
            self.sequences[users[start], self.max_length - (end + 1 - first) :] = items[first : end + 1]
            chosen_on[users[start], self.max_length - (end + 1 - first) :] = days[first : end + 1]
        # Column 0 is the padding (never a target); an item's release is 0 when the rule is off.
        released = np.zeros(len(self.item_ids) + 1, dtype=np.float32)
        if self.available_negatives:
            released[1:] = release_days(interactions, self.item_ids)
        self.weights = self._train(chosen_on, released)
        self._prepare()

    def _prepare(self) -> None:
        # Converted once, not per request (the embedding table is items x dims).
        self.serving_weights = {name: self.weights[name].astype(np.float64) for name in WEIGHTS}

    def _train(self, chosen_on: np.ndarray, released: np.ndarray) -> dict[str, np.ndarray]:
        import tensorflow as tf  # lazy: only training pays for TensorFlow

        tf.keras.utils.set_random_seed(self.random_state)
        tf.config.experimental.enable_op_determinism()
        rng = np.random.default_rng(self.random_state)
        n, d, length = len(self.item_ids) + 1, self.dims, self.max_length
        init = tf.keras.initializers.GlorotUniform(seed=self.random_state)
        weights = {
            "embedding": tf.Variable(init((n, d))),
            "position": tf.Variable(init((length, d))),
            "w_query": tf.Variable(init((d, d))),
            "w_key": tf.Variable(init((d, d))),
            "w_value": tf.Variable(init((d, d))),
            "w_hidden": tf.Variable(init((d, d))),
            "b_hidden": tf.Variable(tf.zeros(d)),
            "w_out": tf.Variable(init((d, d))),
            "b_out": tf.Variable(tf.zeros(d)),
        }
        variables = [weights[name] for name in WEIGHTS]
        optimizer = tf.keras.optimizers.Adam(self.learning_rate)
        causal = tf.constant(np.triu(np.full((length, length), -1e9, dtype=np.float32), k=1))
        pad_logit = tf.constant(np.r_[-1e9, np.zeros(n - 1)].astype(np.float32))
        released_on = tf.constant(released)

        def norm(x: tf.Tensor) -> tf.Tensor:
            mean, variance = tf.nn.moments(x, axes=[-1], keepdims=True)
            return (x - mean) / tf.sqrt(variance + 1e-6)

        @tf.function(reduce_retracing=True)
        def step(inputs: tf.Tensor, targets: tf.Tensor, days: tf.Tensor) -> tf.Tensor:
            with tf.GradientTape() as tape:
                present = tf.cast(inputs > 0, tf.float32)
                x = (tf.gather(weights["embedding"], inputs) + weights["position"]) * present[:, :, None]
                h = norm(x)
                scores = (h @ weights["w_query"]) @ tf.transpose(h @ weights["w_key"], [0, 2, 1]) / d**0.5
                scores += causal + (1.0 - present[:, None, :]) * -1e9
                h = x + tf.nn.softmax(scores) @ (h @ weights["w_value"])
                g = norm(h)
                out = (
                    h + tf.nn.relu(g @ weights["w_hidden"] + weights["b_hidden"]) @ weights["w_out"] + weights["b_out"]
                )
                logits = norm(out) @ tf.transpose(weights["embedding"]) + pad_logit
                if self.available_negatives:
                    # A position's target competes only with items already on sale when it was chosen.
                    logits += tf.where(released_on[None, None, :] > days[:, :, None], -1e9, 0.0)
                losses = tf.nn.sparse_softmax_cross_entropy_with_logits(targets, logits)
                mask = tf.cast(targets > 0, tf.float32)
                loss = tf.reduce_sum(losses * mask) / tf.maximum(tf.reduce_sum(mask), 1.0)
            optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables, strict=True))
            return loss

        # Input: the sequence without its last item; target: the next item at each position.
        rows = (self.sequences > 0).sum(axis=1) > 1
        usable, days = self.sequences[rows], chosen_on[rows]
        inputs = np.c_[np.zeros((len(usable), 1), dtype=np.int64), usable[:, :-1]]
        targets = np.where(inputs > 0, usable, 0)
        steps = max(1, -(-len(usable) // self.batch_size))
        log = EpochLog(tf, self.log_dir)
        for epoch in range(1, self.epochs + 1):
            started, order, losses = time.perf_counter(), rng.permutation(len(usable)), []
            for number, start in enumerate(range(0, len(usable), self.batch_size), start=1):
                batch = order[start : start + self.batch_size]
                losses.append(float(step(inputs[batch], targets[batch], days[batch])))
                if self.verbose and number == steps:
                    sys.stderr.write(
                        f"sequential epoch {epoch}/{self.epochs} loss {np.mean(losses):.4f} "
                        f"{time.perf_counter() - started:.1f}s\n"
                    )
            log.epoch(epoch, float(np.mean(losses)) if losses else 0.0, time.perf_counter() - started)
        self.loss_curve = log.curve()
        return {name: weights[name].numpy() for name in WEIGHTS}

    # -- serving (numpy only) -------------------------------------------------------------------

    def _sequence(self, user_id: str | None, history: Sequence[str] | None) -> np.ndarray:
        """Item indices + 1, oldest first: the user's stored sequence, then the recent items."""
        user = self.user_index.get(user_id) if user_id is not None else None
        stored = self.sequences[user][self.sequences[user] > 0] if user is not None else np.zeros(0, np.int64)
        recent = np.array([self.item_index[i] + 1 for i in history or () if i in self.item_index], dtype=np.int64)
        return np.r_[stored, recent][-self.max_length :]

    def _forward(self, sequence: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Next-item probabilities (items, no pad) and the last position's attention over the sequence."""
        w = self.serving_weights
        x = w["embedding"][sequence] + w["position"][self.max_length - len(sequence) :]
        h = layer_norm(x)
        scores = (h[-1] @ w["w_query"]) @ (h @ w["w_key"]).T / np.sqrt(self.dims)
        attention = np.exp(scores - scores.max())
        attention /= attention.sum()
        last = x[-1] + attention @ (h @ w["w_value"])
        out = last + np.maximum(layer_norm(last) @ w["w_hidden"] + w["b_hidden"], 0) @ w["w_out"] + w["b_out"]
        logits = w["embedding"][1:] @ layer_norm(out)
        probabilities = np.exp(logits - logits.max())
        return probabilities / probabilities.sum(), attention

    def recommend(
        self,
        user_id: str | None = None,
        history: Sequence[str] | None = None,
        k: int = 10,
        exclude: Iterable[str] = (),
    ) -> list[Recommendation]:
        self._check_fitted()
        sequence = self._sequence(user_id, history)
        if not len(sequence):
            return []
        scores, attention = self._forward(sequence)
        seen = self.history(user_id, history).touched
        blocked = np.r_[seen, [self.item_index[i] for i in exclude if i in self.item_index]].astype(np.int64)
        source = int(sequence[int(np.argmax(attention))]) - 1
        reason = Reason("next_in_session", str(self.item_ids[source]))
        return [Recommendation(str(self.item_ids[i]), float(scores[i]), reason) for i in top_k(scores, k, blocked)]

    def _forget_rows(self, rows: np.ndarray) -> None:
        self.sequences = self.sequences.copy()
        self.sequences[rows] = 0  # 0 pads a sequence: an empty one

    def _state(self) -> dict[str, np.ndarray]:
        return {
            "sequences": self.sequences,
            "loss_curve": self.loss_curve,
            **{f"weights.{name}": self.weights[name] for name in WEIGHTS},
        }

    def _set_state(self, arrays: dict[str, np.ndarray]) -> None:
        self.sequences = arrays.pop("sequences")
        self.loss_curve = arrays.pop("loss_curve", np.zeros(0))  # absent from older artifacts
        self.weights = {name: arrays.pop(f"weights.{name}") for name in WEIGHTS}
        self._prepare()
