"""A content-aware two-tower model, trained with TensorFlow, served with numpy.

Item tower: a dense layer over the item's content features (the ``content`` model's TF-IDF,
category, brand and price band) plus an item-id embedding, giving two vectors per item: ``q_j``
(the item as part of a visitor's history) and ``v_i`` (the item as a candidate). The id
embeddings start at zero and only items with interactions get gradients, so an item known only
from the catalogue is placed by its content alone: that is what lets the model score it.

User tower: the weighted mean of the ``q_j`` of the visitor's items, so an unknown visitor with a
session history is served like a known user, with no per-user embedding.

Training: each (user, item) pair is a target, the user's other items its history; the loss is the
exact softmax over every item with interactions (a few thousand here; a catalogue of 10^5+ would
switch to in-batch negatives). Items without interactions are never negatives, so the model is
not taught that new items are bad. TensorFlow is imported only in ``_fit``; training exports the
``q`` and ``v`` vectors and serving is numpy.

Cold items (few users) get two things. ``available_negatives``: a pair is contrasted only with
items already on sale on the day the user first chose its item (an item's release is the first
day anyone chose it). Without it, an item launched last month is a negative for every choice of
the year before and learns that it loses to everything; that, not its content, is why it never
ranked. ``cold_start_users`` (n0): serving weighs an item's id vectors by ``n / (n + n0)`` for an
item of ``n`` users, so an item with one buyer is scored mostly by its content (its id vector,
learned from one person, is mostly noise) and an item of hundreds by both. On the shared
online-retail file's three validation windows (60/70/80th percentile cuts of the training part),
the release rule lifts NDCG@10 from 0.117/0.093/0.075 to 0.144/0.124/0.111 and cold-item HR@10
from about 0 to 0.024/0.017/0.052 (item-kNN: 0.003/0.003/0); the id weighting then adds
+0.0015 NDCG@10 (paired standard error 0.0005 over the windows' 4,226 users) and moves cold-item
HR@10 by -0.003/0/+0.024.

Scores: ``score(i) = sum_j h_j * (q_j . v_i + |q_j|)``. For one visitor this ranks items exactly
as the normalised mean does (the mean's positive scale and the ``|q_j|`` offsets are the same for
every item); with ``|v_i| = 1`` each term is non-negative, so the score splits into one
contribution per history item and the reason names the largest.

``popularity_correction`` adds ``c * log(1 + users)`` to the training logits, so the learned scores
carry less popularity and rarely bought items can rank; it costs overall accuracy (before the
release rule, on the shared file: c = 1 gave NDCG@10 0.048 against 0.083 for c = 0), hence the
default 0. Training prints one progress bar per epoch on stderr (``verbose``) and takes about
100 s on two cores there (3 epochs over 222k pairs). Each epoch's mean loss is kept in
``loss_curve`` (saved with the model; the admin draws it) and, given a ``log_dir``, written to
TensorBoard as training goes.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from .base import History, ItemInfo, ItemToItemRecommender, Reason, reindex_columns
from .content import ContentRecommender
from .deep import EpochLog, event_days, release_days
from .matrix import Interactions


@dataclass(frozen=True)
class Parts:
    """The towers' output per item, before the id vectors are weighted: content and id parts."""

    content_query: np.ndarray
    id_query: np.ndarray
    content_candidate: np.ndarray
    id_candidate: np.ndarray


def combine(parts: Parts, id_weight: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Serving vectors: ``q = content + w * id`` and ``v`` the same, scaled to length 1."""
    query = parts.content_query + id_weight[:, None] * parts.id_query
    candidate = parts.content_candidate + id_weight[:, None] * parts.id_candidate
    norms = np.maximum(np.linalg.norm(candidate, axis=1, keepdims=True), 1e-12)
    return query.astype(np.float32), (candidate / norms).astype(np.float32)


class NeuralRecommender(ItemToItemRecommender):
    """Two towers over item content and ids; ``epochs`` passes over the (user, item) pairs."""

    name = "neural"
    scores_catalogue_items = True

    def __init__(
        self,
        dims: int = 64,
        hidden: int = 256,
        epochs: int = 3,
        batch_size: int = 1024,
        learning_rate: float = 0.005,
        temperature: float = 0.1,
        max_history: int = 50,
        id_l2: float = 1e-4,
        cold_start_users: float = 10.0,
        available_negatives: bool = True,
        popularity_correction: float = 0.0,
        verbose: bool = True,
        log_dir: str | None = None,
        random_state: int = 0,
    ):
        super().__init__(random_state, max_history)  # the same cap in training and in serving
        self.dims = dims
        self.hidden = hidden
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.temperature = temperature
        self.id_l2 = id_l2
        self.cold_start_users = cold_start_users
        self.available_negatives = available_negatives
        self.popularity_correction = popularity_correction
        self.verbose = verbose
        self.log_dir = log_dir

    def _fit(self, interactions: Interactions, infos: dict[str, ItemInfo]) -> None:
        # The content model's features, built for the same item ids (both score catalogue items).
        content = ContentRecommender(random_state=self.random_state).fit(interactions, list(infos.values()))
        features = sp.csr_matrix(content.features, dtype=np.float32)
        users = np.bincount(self.user_items.indices, minlength=len(self.item_ids))
        first_days = self._first_days(interactions)
        # An item's release: the first day anyone chose it (0 everywhere: no item is ever new).
        released = np.zeros(len(self.item_ids), dtype=np.float32)
        if self.available_negatives:
            released = release_days(interactions, self.item_ids)
        parts = self._train(features, users, released, *self._examples(first_days))
        self.query, self.candidate = combine(parts, self.id_weights(users))

    def _first_days(self, interactions: Interactions) -> sp.csr_matrix:
        """Day (from 1 = the first day of the data) of each user's first touch of each item."""
        pairs = interactions.user_codes.astype(np.int64) * len(interactions.item_ids) + interactions.item_codes
        order = np.lexsort((interactions.timestamps, pairs))
        first = order[np.r_[True, pairs[order][1:] != pairs[order][:-1]]] if len(order) else order
        days = event_days(interactions)[first]
        matrix = sp.csr_matrix(
            (days, (interactions.user_codes[first], interactions.item_codes[first])), shape=interactions.shape
        )
        if len(self.item_ids) != len(interactions.item_ids):
            matrix = reindex_columns(matrix, interactions.item_ids, self.item_ids)
        return matrix.sorted_indices()

    def id_weights(self, users: np.ndarray) -> np.ndarray:
        """How far each item's id vector is trusted: ``n / (n + cold_start_users)`` for an item of
        ``n`` distinct users (0 without users; 1 for every item with users when the prior is 0)."""
        users = np.asarray(users, dtype=np.float64)
        if self.cold_start_users <= 0:
            return (users > 0).astype(np.float64)
        return users / (users + self.cold_start_users)

    def _examples(self, first_days: sp.csr_matrix) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every (user, item) pair whose user has other items: the pair's item is the target, and
        the day the user first chose it (from ``first_days``, which has the pairs of ``user_items``)."""
        matrix = first_days
        counts = np.diff(matrix.indptr)
        users = np.repeat(np.arange(matrix.shape[0]), counts)
        keep = counts[users] > 1
        return users[keep], matrix.indices[keep].astype(np.int64), matrix.data[keep].astype(np.float32)

    def _histories(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Each user's items, padded (-1 = none) to ``max_history`` + 1 and weighted as served
        (scaled to a maximum of 1); a longer history is sampled afresh each epoch."""
        matrix, width = self.user_items, self.max_history + 1
        indices = np.full((matrix.shape[0], width), -1, dtype=np.int64)
        weights = np.zeros((matrix.shape[0], width), dtype=np.float32)
        for user in range(matrix.shape[0]):
            start, stop = matrix.indptr[user : user + 2]
            picked = np.arange(start, stop)
            if len(picked) > width:
                picked = np.sort(rng.choice(picked, width, replace=False))
            if len(picked):
                indices[user, : len(picked)] = matrix.indices[picked]
                weights[user, : len(picked)] = matrix.data[picked] / matrix.data[start:stop].max()
        return indices, weights

    def _train(
        self,
        features: sp.csr_matrix,
        item_users: np.ndarray,
        released: np.ndarray,
        users: np.ndarray,
        targets: np.ndarray,
        days: np.ndarray,
    ) -> Parts:
        import tensorflow as tf  # lazy: only training pays for TensorFlow (seconds, ~0.5 GB)

        tf.keras.utils.set_random_seed(self.random_state)
        tf.config.experimental.enable_op_determinism()
        rng = np.random.default_rng(self.random_state)
        n_items, n_features = features.shape
        coo = features.tocoo()
        content = tf.sparse.reorder(
            tf.sparse.SparseTensor(np.c_[coo.row, coo.col].astype(np.int64), coo.data, (n_items, n_features))
        )
        init = tf.keras.initializers.GlorotUniform(seed=self.random_state)
        w_hidden = tf.Variable(init((max(n_features, 1), self.hidden)), name="w_hidden")
        b_hidden = tf.Variable(tf.zeros(self.hidden), name="b_hidden")
        w_query = tf.Variable(init((self.hidden, self.dims)), name="w_query")
        w_candidate = tf.Variable(init((self.hidden, self.dims)), name="w_candidate")
        id_query = tf.Variable(tf.zeros((n_items, self.dims)), name="id_query")
        id_candidate = tf.Variable(tf.zeros((n_items, self.dims)), name="id_candidate")
        variables = [w_hidden, b_hidden, w_query, w_candidate, id_query, id_candidate]
        optimizer = tf.keras.optimizers.Adam(self.learning_rate)
        # Items without interactions are never negatives (nor targets). The training logits get
        # ``popularity_correction * log(users)`` for free, so the learned scores carry less
        # popularity and rarely bought items can rank (as logQ correction does for sampled softmax).
        prior = np.where(item_users > 0, self.popularity_correction * np.log1p(item_users), -1e9)
        logit_prior = tf.constant(prior.astype(np.float32))
        # An item is a negative only for choices made once it was on sale (from its release day):
        # a new item is not taught to lose against everything bought before it existed.
        released_on = tf.constant(released)

        def towers() -> tuple[tf.Tensor, tf.Tensor]:
            hidden = tf.nn.relu(tf.sparse.sparse_dense_matmul(content, w_hidden) + b_hidden)
            query = hidden @ w_query + id_query
            candidate = tf.math.l2_normalize(hidden @ w_candidate + id_candidate, axis=1)
            return query, candidate

        @tf.function(reduce_retracing=True)
        def step(history: tf.Tensor, weight: tf.Tensor, target: tf.Tensor, day: tf.Tensor) -> tf.Tensor:
            with tf.GradientTape() as tape:
                query, candidate = towers()
                pooled = tf.reduce_sum(tf.gather(query, tf.maximum(history, 0)) * weight[:, :, None], axis=1)
                user = tf.math.l2_normalize(pooled / tf.reduce_sum(weight, axis=1, keepdims=True), axis=1)
                logits = user @ tf.transpose(candidate) / self.temperature + logit_prior
                logits += tf.where(released_on[None, :] > day[:, None], -1e9, 0.0)
                loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(target, logits))
                # Lean on content: id embeddings only carry what content cannot explain.
                used = tf.gather(id_query, tf.maximum(history, 0)) * tf.sign(weight)[:, :, None]
                penalty = self.id_l2 * tf.reduce_sum(used**2)
                total = loss + penalty / tf.cast(tf.shape(target)[0], tf.float32)
            optimizer.apply_gradients(zip(tape.gradient(total, variables), variables, strict=True))
            return loss

        steps = max(1, -(-len(users) // self.batch_size))
        log = EpochLog(tf, self.log_dir)
        for epoch in range(1, self.epochs + 1):
            started, order, losses = time.perf_counter(), rng.permutation(len(users)), []
            histories, history_weights = self._histories(rng)
            for number, start in enumerate(range(0, len(users), self.batch_size), start=1):
                batch = order[start : start + self.batch_size]
                # The target leaves its own history (one slot is spare for it).
                history = histories[users[batch]]
                weight = np.where(history == targets[batch, None], np.float32(0), history_weights[users[batch]])
                history = np.where(weight > 0, history, -1)
                losses.append(float(step(history, weight, targets[batch], days[batch])))
                self._progress(epoch, number, steps, float(np.mean(losses)), time.perf_counter() - started)
            log.epoch(epoch, float(np.mean(losses)) if losses else 0.0, time.perf_counter() - started)
        self.loss_curve = log.curve()
        hidden = tf.nn.relu(tf.sparse.sparse_dense_matmul(content, w_hidden) + b_hidden)
        return Parts((hidden @ w_query).numpy(), id_query.numpy(), (hidden @ w_candidate).numpy(), id_candidate.numpy())

    def _progress(self, epoch: int, step: int, steps: int, loss: float, seconds: float) -> None:
        """A text progress bar on stderr: redrawn in place on a terminal, one line per epoch otherwise."""
        if not self.verbose or (step != steps and not sys.stderr.isatty()):
            return
        filled = 30 * step // steps
        bar = f"neural epoch {epoch}/{self.epochs} [{'#' * filled}{'.' * (30 - filled)}] loss {loss:.4f} {seconds:.1f}s"
        sys.stderr.write(("\r" if sys.stderr.isatty() else "") + bar + ("\n" if step == steps else ""))
        sys.stderr.flush()

    # -- serving (numpy only) -------------------------------------------------------------------

    def _terms(self, indices: np.ndarray, chosen: np.ndarray | slice) -> np.ndarray:
        """``q_j . v_i + |q_j|`` (>= 0): history items x items."""
        query = self.query[indices].astype(np.float64)
        offset = np.linalg.norm(query, axis=1)[:, None]
        return query @ self.candidate[chosen].astype(np.float64).T + offset

    def _rows(self, indices: np.ndarray) -> np.ndarray:
        return self._terms(indices, slice(None))

    def _item_scores(self, visitor: History) -> np.ndarray:
        query = self.query[visitor.indices].astype(np.float64)
        offset = float(visitor.weights @ np.linalg.norm(query, axis=1))
        return self.candidate.astype(np.float64) @ (visitor.weights @ query) + offset

    def _contributions(self, visitor: History, chosen: np.ndarray) -> np.ndarray:
        return self._terms(visitor.indices, chosen) * visitor.weights[:, None]

    def _reason(self, source: int) -> Reason:
        return Reason("similar_taste", str(self.item_ids[source]))

    def _state(self) -> dict[str, np.ndarray]:
        return {"query": self.query, "candidate": self.candidate, "loss_curve": self.loss_curve}

    def _set_state(self, arrays: dict[str, np.ndarray]) -> None:
        self.query = arrays.pop("query")
        self.candidate = arrays.pop("candidate")
        self.loss_curve = arrays.pop("loss_curve", np.zeros(0))  # absent from older artifacts
