"""Celery tasks of the app. Periodic ones are listed in ``promotions.schedules.BEAT_SCHEDULE``."""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from .conf import app_settings
from .tracking import buffer
from .tracking.models import Event
from .training.erasure import purge_old_artifacts

PURGE_BATCH = 10_000

logger = logging.getLogger(__name__)


@shared_task(name="promotions.flush_events", ignore_result=True)
def flush_events() -> int:
    """Move buffered events from Redis into the database."""
    return buffer.flush()


@shared_task(name="promotions.purge_expired_events", ignore_result=True)
def purge_expired_events() -> int:
    """Delete events older than ``PROMOTIONS["RETENTION_DAYS"]``, in batches to keep locks short,
    and the artifacts of model versions beyond ``PROMOTIONS["MODEL_ARTIFACTS_KEEP"]``; returns the
    events deleted."""
    purge_old_artifacts()
    cutoff = timezone.now() - timedelta(days=app_settings.RETENTION_DAYS)
    deleted = 0
    while True:
        ids = list(Event.objects.filter(occurred_at__lt=cutoff).values_list("pk", flat=True)[:PURGE_BATCH])
        if not ids:
            return deleted
        deleted += Event.objects.filter(pk__in=ids).delete()[0]


@shared_task(name="promotions.train_models", ignore_result=True)
def train_models() -> int | None:
    """Fit, compare and store the recommendation models (``promotions.training.pipeline.train``).

    Runs on a Celery worker, never in a web process; returns the new model version's id.
    """
    from .training.pipeline import TrainingInProgressError, train  # numpy and the models load only in workers

    try:
        version = train(in_worker=True)  # one BLAS thread by default: sibling workers share the cores
    except TrainingInProgressError:
        logger.info("Training skipped: another run is in progress")
        return None
    return version.pk if version is not None else None


@shared_task(name="promotions.check_experiment_guardrails", ignore_result=True)
def check_experiment_guardrails() -> list[str]:
    """Pause running experiments whose guardrail metrics show significant harm (sequential test)."""
    from .experiments.results import pause_harmed_experiments

    return pause_harmed_experiments()


@shared_task(name="promotions.promote_online_winners", ignore_result=True)
def promote_online_winners() -> list[str]:
    """With ``PROMOTE_ONLINE_WINNERS``: make concluded recommender experiments' winners the active model."""
    from .experiments.promote import promote_online_winners as promote

    return promote()


@shared_task(name="promotions.update_promotion_stats", ignore_result=True)
def update_promotion_stats() -> int:
    """Recompute the promotions' per-segment conversion statistics (the ranking's Thompson draws
    read them) and re-weight every slot that runs as a bandit; returns the promotions covered."""
    import numpy as np

    from .offers.figures import update_promotion_stats as compute
    from .offers.models import SlotConfig
    from .serving.bandit import reweight

    stats = compute()
    rng = np.random.default_rng()
    for config in SlotConfig.objects.filter(bandit=True):
        reweight(config, stats, rng)
    return len(stats)


@shared_task(name="promotions.refresh_bought_together", ignore_result=True)
def refresh_bought_together() -> int:
    """Rebuild the stored bought-together pairs from the purchases of the last
    ``BOUGHT_TOGETHER_DAYS`` (what ``manage.py promotions_bought_together`` does); returns the rows stored."""
    from .offers.together import refresh  # numpy loads only in workers

    return refresh()


@shared_task(name="promotions.train_uplift_models", ignore_result=True)
def train_uplift_models() -> dict[int, float | None]:
    """Fit each promotion's uplift model on its randomized holdout (``promotions.uplift.app_data``);
    returns promotion id -> the new model's held-out Qini coefficient, for those trained."""
    from .uplift.app_data import train_uplift_models as train  # scikit-learn loads only in workers

    outcomes = train()
    for outcome in outcomes:
        if outcome.model is None:
            logger.info("Uplift model of promotion %s not trained: %s", outcome.promotion_id, outcome.skipped)
    return {outcome.promotion_id: outcome.model.qini for outcome in outcomes if outcome.model is not None}
