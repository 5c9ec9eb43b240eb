"""Offline evaluation of promotion policies on a bandit slot's own log, before any of them goes live.

The slot's bandit logged, for each visitor, the promotion it picked and the probability that pick
had (``bandit_pick`` events), and attribution says whether a purchase followed that was credited
to it. That is randomized data with known propensities, so ``policy.evaluate_policies`` (inverse
propensity weighting, bootstrap intervals) estimates the conversion per visitor of any policy that
chooses one of the logged arms per visitor: the logged policy itself, each single arm, and, where
the arms have uplift models, "the arm with the highest predicted uplift for this visitor" (their
features as of their pick). Django glue: the estimator and the models are in the pure modules.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from django.utils import timezone

from .app_data import history_before
from .features import behavior_features_at
from .policy import LOGGING_POLICY, evaluate_policies

LOGGED = "logged policy"
BY_UPLIFT = "highest predicted uplift"


class PolicyInputError(ValueError):
    """Nothing can be evaluated; the message is one line for the user."""


def arm_label(promotion_id: int, names: dict[int, str]) -> str:
    return f"always {promotion_id} {names.get(promotion_id, '?')}"


def uplift_choices(picks: list, models: dict[int, Any]) -> np.ndarray | None:
    """Per pick, the arm (promotion id) whose model predicts the highest uplift for that visitor as
    of their pick, among the logged arms that have a model; None when no logged arm has one."""
    arms = sorted({p.promotion_id for p in picks} & set(models))
    if not arms:
        return None
    as_of = {p.visitor: p.at for p in picks}
    history = history_before(as_of)
    scores = []
    for arm in arms:
        model = models[arm]
        features = behavior_features_at(history, as_of, model.categories)
        if tuple(features.names) != model.names:
            raise PolicyInputError(f"the uplift model of promotion {arm} expects other features: retrain it")
        by_visitor = dict(zip(features.visitor_ids, model.predict_uplift(features.matrix), strict=True))
        scores.append([by_visitor[p.visitor] for p in picks])
    return np.array(arms)[np.argmax(np.array(scores), axis=0)]


def evaluate_slot(
    slot: str, days: int = 30, resamples: int = 2000, seed: int = 0, now: datetime | None = None
) -> dict[str, Any]:
    """The report of ``promotions_policy_evaluate``: per policy, the estimated conversions per
    visitor with a 95% bootstrap interval, and the difference from the logged policy (paired)."""
    from ..offers.models import Promotion
    from ..serving.bandit import logged_picks
    from .serving import uplift_models

    if days < 1:
        raise PolicyInputError("--days must be at least 1")
    if resamples < 100:
        raise PolicyInputError("--resamples must be at least 100")
    now = now or timezone.now()
    picks = [p for p in logged_picks(slot, now - timedelta(days=days), now) if 0 < p.propensity <= 1]
    if len(picks) < 2:
        raise PolicyInputError(f"slot {slot!r} logged {len(picks)} bandit picks in the last {days} days (need 2)")
    arms = np.array([p.promotion_id for p in picks])
    propensities = np.array([p.propensity for p in picks])
    outcomes = np.array([float(p.converted) for p in picks])
    names = dict(Promotion.objects.filter(pk__in=set(arms.tolist())).values_list("pk", "name"))
    policies: dict[str, Any] = {LOGGED: LOGGING_POLICY}
    for arm in sorted(set(arms.tolist())):
        policies[arm_label(arm, names)] = np.full(arms.size, arm)
    by_uplift = uplift_choices(picks, uplift_models())
    if by_uplift is not None:
        policies[BY_UPLIFT] = by_uplift
    estimates = evaluate_policies(
        arms, propensities, outcomes, policies, baseline=LOGGED, n_bootstrap=resamples, seed=seed
    )
    return {
        "slot": slot,
        "days": days,
        "visitors": int(arms.size),
        "conversions": int(outcomes.sum()),
        "resamples": resamples,
        "seed": seed,
        "policies": {name: asdict(estimate) for name, estimate in estimates.items()},
    }
