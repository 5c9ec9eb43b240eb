"""One training run: data from the event log, models compared on validation windows, the best stored.

Steps: build the interaction log and the catalogue; score every enabled model (and popularity, the
baseline, always) with the evaluation protocol on recent-time validation windows (the 60th, 70th
and 80th percentile cuts, so one unrepresentative period cannot decide alone), the hybrid with its
freshness chosen on those windows; choose by ``evaluation.selection.choose``: popularity or
trending stay unless a model beats them on average and on the most recent window, then the best
such model on average (ties go to the simpler model, listed first); refit it on all the data (a deep
model keeps its per-epoch loss in the version's metrics, ``loss_curve``, and writes TensorBoard
logs under ``TRAINING_LOG_DIR`` when that is set); write its artifact through Django's storage;
then activate it, unless the current active model, re-scored on the same windows, would win the
same rule against this run's candidates.
Every other model of the servable set (``servable.named_models``: the models experiment variants
and ``SERVED_MODELS`` name) is fitted too and stored as its own ready version with its validation
figures, so that a variant serves the model it names. A
run that fails is recorded as failed and changes nothing else. Finally the active model's top-N
lists are precomputed for recently active visitors.

The deep models (TensorFlow) plug in through ``promotions.recommenders.MODELS`` and the
``TRAINING_MODELS`` setting: nothing here depends on which models exist.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.core.files.base import ContentFile
from django.utils import timezone
from django.utils.translation import gettext as _

from ..conf import app_settings
from ..evaluation import WINDOWS, InteractionLog, Split, SplitError, temporal_split
from ..evaluation.selection import choose, has_freshness, score_windows, tune_freshness
from ..recommenders import MODELS, CatalogueTooLargeError, ItemInfo, Recommender, Weighting
from ..recommenders.threads import limited_threads, resolve_threads
from . import data
from .models import ModelVersion
from .precompute import precompute_recommendations
from .servable import named_models
from .versions import activate, active_model, active_version

logger = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
Status = ModelVersion.Status

#: Always scored, so that no model losing to it is ever chosen.
BASELINE = "popularity"
#: List length of the validation figures (NDCG@10...).
K = 10
METRICS = ("ndcg", "recall", "hr", "precision", "map", "coverage")


#: A run still "training" after this long is taken to have died (a killed worker) and blocks nothing.
STALE_RUN = timedelta(hours=6)


class UnknownModelError(ValueError):
    pass


class TrainingInProgressError(RuntimeError):
    """Another run started less than ``STALE_RUN`` ago and has not finished (beat and "Train now" met)."""


def enabled_models(models: Sequence[str] | None = None) -> list[str]:
    """The models to compare, baseline first, then in the given (simplest-first) order."""
    names = list(models if models is not None else app_settings.TRAINING_MODELS)
    unknown = [name for name in names if name not in MODELS]
    if unknown or not names:
        raise UnknownModelError(
            _("Unknown model(s) %(unknown)s; choose from %(known)s.")
            % {"unknown": ", ".join(unknown) or _("(none given)"), "known": ", ".join(MODELS)}
        )
    return list(dict.fromkeys([BASELINE, *names]))


def validation_windows(log: InteractionLog) -> list[Split]:
    """The protocol's temporal split at each cut of ``WINDOWS``, keeping those with users to score."""
    windows = []
    for fraction in WINDOWS:
        try:
            split = temporal_split(log, fraction)
        except SplitError:
            continue
        if split.truth:
            windows.append(split)
    if not windows:
        raise SplitError(_("Too little data to validate: no user has interactions after a validation cut."))
    return windows


def score(
    name: str, params: dict[str, Any], windows: Sequence[Split], items: Sequence[ItemInfo], weighting: Weighting
) -> dict[str, Any]:
    """Validation figures of one model over the windows (means weighted by each window's users, and
    ``latest``: NDCG on the most recent window)."""
    return score_windows(name, params, windows, items, K, weighting).as_figures()


def candidate(
    name: str, windows: Sequence[Split], items: Sequence[ItemInfo], weighting: Weighting
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(parameters, figures) of a candidate: its freshness chosen on the windows where it has one
    (``selection.tune_freshness``), else its defaults."""
    if has_freshness(name):
        tuned = tune_freshness(name, windows, items, K, weighting)
        return tuned.params, {**tuned.as_figures(), "freshness_gains": tuned.freshness_gains}
    return {}, score(name, {}, windows, items, weighting)


def train(
    models: Sequence[str] | None = None, progress: Progress | None = None, in_worker: bool = False
) -> ModelVersion | None:
    """Run one training; returns the new version (ready, active or failed), or None without any data.

    ``in_worker``: the run is a Celery worker's (one BLAS thread with ``TRAINING_THREADS`` automatic),
    else a run alone (every core). Raises ``UnknownModelError`` or ``TrainingInProgressError``
    before anything is recorded.
    """
    names = enabled_models(models)
    if ModelVersion.objects.filter(status=Status.TRAINING, created_at__gte=timezone.now() - STALE_RUN).exists():
        raise TrainingInProgressError(_("Another training run is in progress."))
    started = time.monotonic()
    version = ModelVersion.objects.create()  # recorded at once, so a concurrent run sees this one
    try:
        threads = resolve_threads(app_settings.TRAINING_THREADS, in_worker)
        log = data.interaction_log()
        if not len(log):
            logger.info("No interaction events yet: nothing to train")
            version.delete()
            return None
        version.training_rows = len(log)
        version.training_users = len(log.user_ids)  # every id of the log's vocabularies has a row
        version.training_items = len(log.item_ids)
        with limited_threads(threads) as observed:
            better, context = _fit_best(version, names, log, progress or (lambda done, total: None))
            version.metrics["servable"] = _fit_servable(version, log, *context)
        # What threadpoolctl reported inside the limit, kept with the figures it produced.
        version.metrics["threads"] = {
            "setting": app_settings.TRAINING_THREADS,
            "in_worker": in_worker,
            "limit": threads,
            **observed,
        }
    except Exception as error:  # any failure leaves the active version serving
        logger.exception("Training run %s failed; the active model version stays", version.pk)
        _finish(version, started, Status.FAILED, error=f"{type(error).__name__}: {error}")
        return version
    _finish(version, started, Status.READY)
    if better:
        version = activate(version.pk)
    else:
        logger.info("Model version %s scores below the active version; the active one stays", version.pk)
    current, model = active_version(), active_model()
    if current is not None and model is not None:
        with limited_threads(threads):
            written = precompute_recommendations(model, current.pk)
        logger.info("Precomputed %s recommendation lists with model version %s", written, current.pk)
    return version


def _finish(version: ModelVersion, started: float, status: str, error: str = "") -> None:
    version.status = status
    version.error = error
    version.finished_at = timezone.now()
    version.duration_seconds = time.monotonic() - started
    version.save()


#: What ``_fit_best`` hands on to ``_fit_servable``: the windows, the catalogue, the weighting, the
#: candidates' figures, the chosen model's name and each candidate's tuned parameters.
Context = tuple[list[Split], list[ItemInfo], Weighting, dict[str, dict[str, Any]], str, dict[str, dict[str, Any]]]
#: The re-scored active version's name among the candidates when the rule is run again.
ACTIVE = "active version"


def _fit_best(version: ModelVersion, names: list[str], log: InteractionLog, progress: Progress) -> tuple[bool, Context]:
    """Score, choose, refit on all data and write the artifact; True when it beats the active model."""
    windows = validation_windows(log)
    weighting = data.weighting()
    items = data.catalogue()
    total = len(names)  # counts the models scored, as many as the command then lists
    candidates: dict[str, dict[str, Any]] = {}
    tuned: dict[str, dict[str, Any]] = {}
    for step, name in enumerate(names, start=1):
        try:
            tuned[name], candidates[name] = candidate(name, windows, items, weighting)
        except CatalogueTooLargeError as error:  # a size guard, not a failure: leave the model out
            logger.warning("Model %s left out of training: %s", name, error)
        progress(step, total)
    best, why = choose(candidates)  # ties: the earlier, simpler one
    weighting, signals = _choose_signals(best, windows, items, weighting, candidates, tuned)
    current = _rescore_current(candidates, tuned, windows, items, weighting)
    _fit_and_store(version, best, log, items, weighting, candidates[best], len(windows), tuned[best])
    version.metrics.update({"candidates": candidates, "current": current, "selection": why})
    if signals is not None:
        version.metrics["signals"] = signals
    # The active model stays only where it would win the same rule against this run's candidates.
    better = current is None or choose({**candidates, ACTIVE: current})[0] != ACTIVE
    return better, (windows, items, weighting, candidates, best, tuned)


def _choose_signals(
    best: str,
    windows: Sequence[Split],
    items: Sequence[ItemInfo],
    neutral: Weighting,
    candidates: dict[str, dict[str, Any]],
    tuned: dict[str, dict[str, Any]],
) -> tuple[Weighting, dict[str, Any] | None]:
    """The weighting to fit with: the configured one (rating values, dwell times) only when the
    windows score the chosen model better with it, on average and on the latest window, than with
    the neutral one; else the neutral one. Both figures are returned for the version's metrics
    (None when no signal is configured)."""
    if not data.signals_configured():
        return neutral, None
    configured = data.weighting(signals=True)
    params, figures = candidate(best, windows, items, configured)
    before = candidates[best]
    kept = figures["ndcg"] > before["ndcg"] and figures.get("latest", figures["ndcg"]) >= before.get(
        "latest", before["ndcg"]
    )
    report = {
        "model": best,
        "rating_power": configured.rating_power,
        "dwell_seconds": configured.dwell_seconds,
        "neutral": {"ndcg": before["ndcg"], "latest": before.get("latest")},
        "configured": {"ndcg": figures["ndcg"], "latest": figures.get("latest")},
        "kept": kept,
    }
    logger.info(
        "Rating/dwell weighting %s for %s: validation NDCG@10 %.4f with, %.4f without",
        "kept" if kept else "dropped",
        best,
        figures["ndcg"],
        before["ndcg"],
    )
    if not kept:
        return neutral, report
    candidates[best], tuned[best] = figures, params
    return configured, report


def _fit_and_store(
    version: ModelVersion,
    name: str,
    log: InteractionLog,
    items: list[ItemInfo],
    weighting: Weighting,
    figures: dict[str, Any],
    windows: int,
    params: dict[str, Any] | None = None,
) -> None:
    """Fit ``name`` (its defaults, or ``params`` chosen on the windows) on all the data and write its
    artifact and figures into ``version``."""
    model = MODELS[name](**(params or {}))
    log_dir = _log_dir(model, version)
    fit_started = time.perf_counter()
    model.fit(log.to_interactions(weighting), items)
    fit_seconds = time.perf_counter() - fit_started
    # The file is complete in storage before any row points at it as ready.
    version.artifact.save(f"{name}-{version.pk}.npz", ContentFile(model.save()), save=False)
    version.model_name = name
    # Where the logs went is not a hyper-parameter: kept beside the figures, not re-used when re-scoring.
    version.parameters = json.loads(json.dumps({k: v for k, v in model.get_params().items() if k != "log_dir"}))
    curve = getattr(model, "loss_curve", None)
    version.metrics = {
        **({"loss_curve": [float(loss) for loss in curve]} if curve is not None and len(curve) else {}),
        **({"log_dir": log_dir} if log_dir else {}),
        **{metric: figures[metric] for metric in METRICS},
        "fit_seconds": fit_seconds,
        "validation_users": figures["users"],
        "windows": windows,
    }


def _fit_servable(
    run: ModelVersion,
    log: InteractionLog,
    windows: list[Split],
    items: list[ItemInfo],
    weighting: Weighting,
    candidates: dict[str, dict[str, Any]],
    best: str,
    tuned: dict[str, dict[str, Any]],
) -> dict[str, Any]:
    """Fit and store, each as its own ready version with its validation figures, every model of the
    servable set besides the chosen one (``servable.named_models``). One that fails or is unknown is
    reported here and by the checks (``servable.missing_models``), and stops none of the others.
    Returns ``{name: version id}`` or ``{name: "error text"}``."""
    stored: dict[str, Any] = {best: run.pk}
    for name, where in named_models().items():
        if name in stored:
            continue
        if name not in MODELS:
            stored[name] = _("unknown model")
            logger.warning("Model %r, named by %s, is unknown and cannot be trained", name, "; ".join(where))
            continue
        started = time.monotonic()
        version = ModelVersion.objects.create(
            training_rows=run.training_rows, training_users=run.training_users, training_items=run.training_items
        )
        try:
            params, figures = (
                (tuned[name], candidates[name]) if name in candidates else candidate(name, windows, items, weighting)
            )
            _fit_and_store(version, name, log, items, weighting, figures, len(windows), params)
        except Exception as error:
            logger.exception("Model %s of the servable set (named by %s) could not be trained", name, "; ".join(where))
            version.delete()
            stored[name] = f"{type(error).__name__}: {error}"
            continue
        version.metrics.update({"servable_for": where, "run": run.pk})
        _finish(version, started, Status.READY)
        stored[name] = version.pk
    return stored


def _log_dir(model: Recommender, version: ModelVersion) -> str | None:
    """With ``TRAINING_LOG_DIR`` set, a model that writes TensorBoard logs gets its own folder there."""
    root = app_settings.TRAINING_LOG_DIR
    if not root or "log_dir" not in model.get_params():
        return None
    path = str(Path(root) / f"version-{version.pk}-{model.name}")
    model.set_params(log_dir=path)
    return path


def _rescore_current(
    candidates: dict[str, dict[str, Any]],
    tuned: dict[str, dict[str, Any]],
    windows: list[Split],
    items: list[ItemInfo],
    weighting: Weighting,
) -> dict[str, Any] | None:
    """The active model's figures on the same windows (refit on their train parts, like the candidates)."""
    current = active_version()
    if current is None or current.model_name not in MODELS:
        return None
    name = current.model_name
    as_candidate = json.loads(json.dumps(MODELS[name](**tuned.get(name, {})).get_params()))
    if name in candidates and current.parameters == as_candidate:
        figures = candidates[current.model_name]
    else:
        try:
            figures = score(current.model_name, current.parameters, windows, items, weighting)
        except Exception:  # e.g. parameters of an older release: it cannot compete, the new model wins
            logger.exception("The active model version %s cannot be re-scored", current.pk)
            return None
    return {"version": current.pk, "model": current.model_name, **figures}
