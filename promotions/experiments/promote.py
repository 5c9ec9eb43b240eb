"""From an online result to the live model: a recommender experiment's winner becomes the active model.

A recommender experiment is one whose variants name models (``Variant.config["model"]``; a
variant without one serves the active model). Its winner is decided by the statistics engine's
own rule, as the results page shows it: the primary metric's comparison with the control,
Holm-adjusted across the variants (or the Bayesian interval), a clean sample-ratio check, and a
positive lift; when every other variant is significantly worse, the control wins. Nothing is
promoted on a trend.

Promoting activates the newest servable version of the winner's model (``training.versions``,
one transaction), concludes the experiment with that winner, and logs a ``ModelPromotion`` that
records what was active before, so that ``revert`` puts it back. ``promote_online_winners`` (a
periodic task) does it by itself for running experiments analysed with the sequential test, the
one method that stays valid however often it is checked, when ``PROMOTE_ONLINE_WINNERS`` is on.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ..conf import app_settings
from ..training.models import ModelPromotion, ModelVersion
from ..training.versions import activate, active_version
from .models import Experiment, Variant
from .results import ExperimentResults, VariantResult, experiment_results

logger = logging.getLogger(__name__)


class PromotionError(ValueError):
    """The experiment's winner cannot be made the active model (the message says why)."""


@dataclass(frozen=True)
class OnlineWinner:
    """The variant the statistics engine declares the winner, and the version that would serve it."""

    experiment: Experiment
    variant: Variant
    model_name: str
    #: The newest servable version of the model; None when none is trained (nothing to activate).
    version: ModelVersion | None
    evidence: dict


def variant_model(variant: Variant) -> str | None:
    """The model a variant names, or None (it serves the active model)."""
    config = variant.config if isinstance(variant.config, dict) else {}
    name = config.get("model")
    return str(name) if name else None


def is_recommender_experiment(experiment: Experiment) -> bool:
    return any(variant_model(variant) for variant in experiment.variants.all())


def servable_version(model_name: str) -> ModelVersion | None:
    """The newest version of this model that has an artifact and may serve."""
    servable = (*ModelVersion.ACTIVATABLE, ModelVersion.Status.ACTIVE)
    return (
        ModelVersion.objects.filter(model_name=model_name, status__in=servable)
        .exclude(artifact="")
        .order_by("-created_at", "-pk")
        .first()
    )


def _evidence(results: ExperimentResults, winner: VariantResult, compared: VariantResult) -> dict:
    """What the decision rested on, kept with the promotion (figures as plain floats)."""
    comparison = compared.comparison
    return {
        "metric": results.metric,
        "method": results.experiment.analysis_method,
        "winner_units": winner.units,
        "control_units": results.control.units if results.control else 0,
        "rel_lift": float(comparison.rel_lift),
        "rel_ci_low": float(comparison.rel_ci_low),
        "rel_ci_high": float(comparison.rel_ci_high),
        "p_value_adjusted": compared.p_value_adjusted,
        "srm_p_value": float(results.srm.p_value) if results.srm is not None else None,
    }


def decide_winner(results: ExperimentResults) -> tuple[VariantResult, VariantResult] | None:
    """(winner, the comparison it rests on) by the engine's rule, or None while undecided.

    The best variant significantly better than the control wins; if every other variant is
    significantly worse, the control wins (its comparison is the least bad variant's).
    """
    if results.srm is not None and bool(results.srm.flagged):
        return None
    control = results.control
    others = [result for result in results.variants if result is not control and result.variant.weight > 0]
    if control is None or not others:
        return None
    better = [r for r in others if r.comparison is not None and r.significant and float(r.comparison.abs_lift) > 0]
    if better:
        best = max(better, key=lambda result: float(result.comparison.abs_lift))
        return best, best
    if all(r.comparison is not None and r.significant and float(r.comparison.abs_lift) < 0 for r in others):
        least_bad = max(others, key=lambda result: float(result.comparison.abs_lift))
        return control, least_bad
    return None


def online_winner(experiment: Experiment, results: ExperimentResults | None = None) -> OnlineWinner | None:
    """The recommender experiment's decided winner and its servable version, or None.

    None when the experiment names no models, the results do not decide yet, or the winner
    serves the active model already (a variant that names no model).
    """
    if not is_recommender_experiment(experiment):
        return None
    results = results if results is not None else experiment_results(experiment)
    decided = decide_winner(results)
    if decided is None:
        return None
    winner, compared = decided
    model_name = variant_model(winner.variant)
    if model_name is None:
        return None
    return OnlineWinner(
        experiment, winner.variant, model_name, servable_version(model_name), _evidence(results, winner, compared)
    )


def promote(experiment: Experiment, *, by: str = "", automatic: bool = False) -> ModelPromotion:
    """Make the experiment's online winner the active model and conclude the experiment with it."""
    winner = online_winner(experiment)
    if winner is None:
        raise PromotionError(
            _("%(experiment)s has no winning model yet: no variant that names a model is significantly better.")
            % {"experiment": experiment}
        )
    if winner.version is None:
        raise PromotionError(
            _("The winning model %(model)s has no trained version to activate; train it first.")
            % {"model": winner.model_name}
        )
    winner.version.load_model()  # never activate an artifact that cannot be served
    with transaction.atomic():
        previous = active_version()
        activate(winner.version.pk)
        promotion = ModelPromotion.objects.create(
            experiment=experiment,
            variant=winner.variant,
            version=winner.version,
            previous_version=previous if previous is not None and previous.pk != winner.version.pk else None,
            automatic=automatic,
            promoted_by=by,
            evidence=winner.evidence,
        )
        if experiment.status != Experiment.Status.CONCLUDED or experiment.winner_id != winner.variant.pk:
            experiment.status, experiment.winner = Experiment.Status.CONCLUDED, winner.variant
            experiment.ended_at = experiment.ended_at or timezone.now()
            experiment.save(update_fields=["status", "winner", "ended_at"])
    logger.info(
        "Model version %s (%s) made active from experiment %s (winner %s, %s)",
        winner.version.pk,
        winner.model_name,
        experiment.key,
        winner.variant.key,
        "automatically" if automatic else f"by {by or 'unknown'}",
    )
    return promotion


def revert(promotion: ModelPromotion, *, by: str = "") -> ModelPromotion:
    """Put back the version that was active before this promotion; the promotion stays in the log."""
    if promotion.reverted_at is not None:
        raise PromotionError(_("This promotion was already reverted."))
    if promotion.previous_version is None:
        raise PromotionError(_("No version was active before this promotion: there is nothing to go back to."))
    with transaction.atomic():
        activate(promotion.previous_version.pk)
        promotion.reverted_at, promotion.reverted_by = timezone.now(), by
        promotion.save(update_fields=["reverted_at", "reverted_by"])
    logger.info("Model promotion %s reverted: version %s is active again", promotion.pk, promotion.previous_version_id)
    return promotion


def promote_online_winners() -> list[str]:
    """With ``PROMOTE_ONLINE_WINNERS``: promote each sequentially analysed recommender experiment
    whose test has concluded; returns their keys. Meant for a periodic task.

    Only the sequential test may be looked at this often without inflating false winners; an
    experiment whose winning model has no trained version is left running (and logged).
    """
    if not app_settings.PROMOTE_ONLINE_WINNERS:
        return []
    promoted = []
    running = Experiment.objects.filter(status=Experiment.Status.RUNNING, analysis_method=Experiment.Method.SEQUENTIAL)
    for experiment in running.prefetch_related("variants"):
        if not is_recommender_experiment(experiment):
            continue
        winner = online_winner(experiment)
        if winner is None:
            continue
        if winner.version is None:
            logger.warning("Experiment %s: winning model %s has no trained version", experiment.key, winner.model_name)
            continue
        try:
            promote(experiment, by="policy", automatic=True)
        except Exception:  # one experiment's failure never stops the others
            logger.exception("Experiment %s: promoting its winning model failed", experiment.key)
            continue
        promoted.append(experiment.key)
    return promoted


def online_figures(version: ModelVersion) -> list[dict]:
    """Each experiment in which this version's model was a variant: its units, rate and lift.

    For the model version page, beside the offline figures.
    """
    rows = []
    variants = Variant.objects.filter(config__model=version.model_name).select_related("experiment")
    for experiment in {variant.experiment for variant in variants}:
        results = experiment_results(experiment)
        for result in results.variants:
            if variant_model(result.variant) != version.model_name:
                continue
            comparison = result.comparison
            rows.append(
                {
                    "experiment": experiment,
                    "variant": result.variant,
                    "metric": Experiment.Metric(results.metric).label,
                    "units": result.units,
                    "rate": result.rate,
                    "mean_revenue": float(result.revenue.mean) if result.units else None,
                    "is_control": result.variant.is_control,
                    "rel_lift": float(comparison.rel_lift) if comparison is not None else None,
                    "rel_ci_low": float(comparison.rel_ci_low) if comparison is not None else None,
                    "rel_ci_high": float(comparison.rel_ci_high) if comparison is not None else None,
                    "significant": result.significant if comparison is not None else False,
                    "won": experiment.winner_id == result.variant.pk,
                }
            )
    return sorted(rows, key=lambda row: (-row["experiment"].pk, row["variant"].pk))
