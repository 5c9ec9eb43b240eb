"""The app's periodic work, for Celery beat.

A project adds it to its own schedule: ``CELERY_BEAT_SCHEDULE = {**promotions.schedules.BEAT_SCHEDULE}``.
Intervals are in seconds; override an entry to change it. This module imports nothing from
Django, so settings can import it.
"""

BEAT_SCHEDULE = {
    "promotions-flush-events": {"task": "promotions.flush_events", "schedule": 10.0},
    "promotions-purge-expired-events": {"task": "promotions.purge_expired_events", "schedule": 6 * 3600.0},
    # Daily: fit and compare the models on the event log, activate the best, precompute top-N lists.
    "promotions-train-models": {"task": "promotions.train_models", "schedule": 24 * 3600.0},
    # Hourly: experiments set to pause on guardrail harm are paused when the sequential test shows it.
    "promotions-check-experiment-guardrails": {"task": "promotions.check_experiment_guardrails", "schedule": 3600.0},
    # Hourly: with PROMOTE_ONLINE_WINNERS, a recommender experiment's sequential winner becomes the active model.
    "promotions-promote-online-winners": {"task": "promotions.promote_online_winners", "schedule": 3600.0},
    # Hourly: per-segment promotion conversion statistics for the ranking, and bandit slot shares.
    "promotions-update-promotion-stats": {"task": "promotions.update_promotion_stats", "schedule": 3600.0},
    # Daily: each promotion's uplift model, from its randomized holdout (Promotion.uplift_holdout).
    "promotions-train-uplift-models": {"task": "promotions.train_uplift_models", "schedule": 24 * 3600.0},
    # Daily: the products bought together ({% bought_together %}, bundle suggestions), from the purchases.
    "promotions-refresh-bought-together": {"task": "promotions.refresh_bought_together", "schedule": 24 * 3600.0},
}
