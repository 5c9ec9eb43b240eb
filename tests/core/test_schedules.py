"""The beat schedule names only tasks the app registers, each at a positive interval."""

from celery import current_app

import promotions.tasks  # noqa: F401  (registers the tasks)
from promotions.schedules import BEAT_SCHEDULE


def test_every_scheduled_task_is_registered_with_a_positive_interval():
    registered = set(current_app.tasks)
    assert {entry["task"] for entry in BEAT_SCHEDULE.values()} <= registered
    assert all(entry["schedule"] > 0 for entry in BEAT_SCHEDULE.values())
    assert BEAT_SCHEDULE["promotions-train-uplift-models"]["task"] == "promotions.train_uplift_models"
