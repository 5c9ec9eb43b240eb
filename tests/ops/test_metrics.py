"""The metrics endpoint: valid Prometheus text (read back by prometheus_client's parser) with the health figures."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families

from promotions.ops import metrics
from promotions.ops.health import CheckResult
from promotions.training.models import ModelVersion

from .conftest import METRICS_URL, model_version

pytestmark = pytest.mark.django_db


def samples(text: str) -> dict[tuple[str, tuple], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_metrics_carry_every_check_and_the_figures(staff_client, redis_buffer):
    version = model_version(ModelVersion.Status.ACTIVE, age=timedelta(hours=2))
    model_version(ModelVersion.Status.FAILED, age=timedelta(hours=1), error="ValueError: no events")
    redis_buffer.xadd("promotions:events", {"r": "[]"}, id=f"{int((time.time() - 30) * 1000)}-0")
    response = staff_client.get(METRICS_URL)
    assert response.status_code == 200  # a scrape succeeds even when a check fails: the values say it
    assert response["Content-Type"] == metrics.CONTENT_TYPE
    values = samples(response.content.decode())
    assert values[("promotions_health_up", ())] == 0
    for check in ("database", "cache", "broker", "buffer", "model"):
        assert values[("promotions_check_up", (("check", check),))] == 1, (check, response.content.decode())
        assert values[("promotions_check_duration_seconds", (("check", check),))] >= 0
    assert values[("promotions_check_up", (("check", "training"),))] == 0
    assert values[("promotions_training_last_failed", ())] == 1
    assert values[("promotions_event_buffer_backlog", ())] == 1
    assert values[("promotions_event_buffer_oldest_age_seconds", ())] == pytest.approx(30, abs=5)
    assert values[("promotions_model_age_seconds", ())] == pytest.approx(7200, abs=60)
    assert values[("promotions_model_active_version", ())] == version.pk


def test_figures_a_failed_check_could_not_measure_are_left_out():
    text = metrics.render([CheckResult("model", False, 0.5, {"version": None}, "No model is active")])
    values = samples(text)
    assert values[("promotions_check_up", (("check", "model"),))] == 0
    assert not any(name.startswith("promotions_model_") for name, _labels in values)


def test_label_values_are_escaped():
    text = metrics.render([CheckResult('a"b\\c\nd', True, 1e-7)])
    assert samples(text)[("promotions_check_up", (("check", 'a"b\\c\nd'),))] == 1
    assert len(text.splitlines()) == 12  # 4 families x (HELP, TYPE, one sample): the newline stayed escaped
