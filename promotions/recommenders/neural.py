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

Scores: ``score(i) = sum_j h_j * (q_j . v_i + |q_j|)``. For one visitor this ranks items exactly
as the normalised mean does (the mean's positive scale and the ``|q_j|`` offsets are the same for
every item); with ``|v_i| = 1`` each term is non-negative, so the score splits into one
contribution per history item and the reason names the largest.

``popularity_correction`` adds ``c * log(1 + users)`` to the training logits, so the learned scores
carry less popularity and rarely bought items can rank. On the shared online-retail file it is a
steep trade: c = 0 gives NDCG@10 0.083 and cold-item HR@10 0; c = 0.75 gives 0.062 and 0.005;
c = 1 gives 0.048 and 0.027. Hence the default 0. Training prints one progress bar per epoch on
stderr (``verbose``) and takes about 100 s on two cores there (3 epochs over 222k pairs). Each
epoch's mean loss is kept in ``loss_curve`` (saved with the model; the admin draws it) and, given a
``log_dir``, written to TensorBoard as training goes.
"""

from __future__ import annotations

import sys
import time

import numpy as np
import scipy.sparse as sp

from .base import History, ItemInfo, ItemToItemRecommender, Reason
from .content import ContentRecommender
from .deep import EpochLog
from .matrix import Interactions


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
        self.popularity_correction = popularity_correction
        self.verbose = verbose
        self.log_dir = log_dir

    def _fit(self, interactions: Interactions, infos: dict[str, ItemInfo]) -> None:
        # The content model's features, built for the same item ids (both score catalogue items).
        content = ContentRecommender(random_state=self.random_state).fit(interactions, list(infos.values()))
        features = sp.csr_matrix(content.features, dtype=np.float32)
        trained = np.zeros(len(self.item_ids), dtype=bool)
        trained[self.user_items.indices] = True
        self.query, self.candidate = self._train(features, trained, *self._examples())

    def _examples(self) -> tuple[np.ndarray, np.ndarray]:
        """Every (user, item) pair whose user has other items: the pair's item is the target."""
        matrix = self.user_items
        counts = np.diff(matrix.indptr)
        users = np.repeat(np.arange(matrix.shape[0]), counts)
        keep = counts[users] > 1
        return users[keep], matrix.indices[keep].astype(np.int64)

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
        trained: np.ndarray,
        users: np.ndarray,
        targets: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray]:
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
        counts = np.bincount(self.user_items.indices, minlength=n_items)
        prior = np.where(trained, self.popularity_correction * np.log1p(counts), -1e9)
        logit_prior = tf.constant(prior.astype(np.float32))

        def towers() -> tuple[tf.Tensor, tf.Tensor]:
            hidden = tf.nn.relu(tf.sparse.sparse_dense_matmul(content, w_hidden) + b_hidden)
            query = hidden @ w_query + id_query
            candidate = tf.math.l2_normalize(hidden @ w_candidate + id_candidate, axis=1)
            return query, candidate

        @tf.function(reduce_retracing=True)
        def step(history: tf.Tensor, weight: tf.Tensor, target: tf.Tensor) -> tf.Tensor:
            with tf.GradientTape() as tape:
                query, candidate = towers()
                pooled = tf.reduce_sum(tf.gather(query, tf.maximum(history, 0)) * weight[:, :, None], axis=1)
                user = tf.math.l2_normalize(pooled / tf.reduce_sum(weight, axis=1, keepdims=True), axis=1)
                logits = user @ tf.transpose(candidate) / self.temperature + logit_prior
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
                losses.append(float(step(history, weight, targets[batch])))
                self._progress(epoch, number, steps, float(np.mean(losses)), time.perf_counter() - started)
            log.epoch(epoch, float(np.mean(losses)) if losses else 0.0, time.perf_counter() - started)
        self.loss_curve = log.curve()
        query, candidate = towers()
        return query.numpy(), candidate.numpy()

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
        name = self.item_name(source)
        return Reason("similar_taste", f"Because you chose {name}", str(self.item_ids[source]))

    def _state(self) -> dict[str, np.ndarray]:
        return {"query": self.query, "candidate": self.candidate, "loss_curve": self.loss_curve}

    def _set_state(self, arrays: dict[str, np.ndarray]) -> None:
        self.query = arrays.pop("query")
        self.candidate = arrays.pop("candidate")
        self.loss_curve = arrays.pop("loss_curve", np.zeros(0))  # absent from older artifacts
