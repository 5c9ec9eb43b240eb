"""Fixtures of the operations tests: a staff client, model versions of a chosen age, Redis on or off."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client, override_settings
from django.utils import timezone

from promotions.tracking import buffer
from promotions.training.models import ModelVersion
from shop_demo import settings as shop_settings

HEALTH_URL = "/promotions/health/"
METRICS_URL = "/promotions/metrics/"


@pytest.fixture
def staff_client(django_user_model) -> Client:
    client = Client()
    client.force_login(django_user_model.objects.create_superuser("ops", "ops@example.com", "x"))
    return client


def model_version(status: str, age: timedelta = timedelta(hours=1), error: str = "") -> ModelVersion:
    version = ModelVersion.objects.create(model_name="hybrid", status=status, error=error)
    finished = timezone.now() - age
    # created_at is auto_now_add: set both through update() to place the version in time.
    ModelVersion.objects.filter(pk=version.pk).update(created_at=finished, finished_at=finished)
    version.refresh_from_db()
    return version


@pytest.fixture
def fresh_model(db) -> ModelVersion:
    return model_version(ModelVersion.Status.ACTIVE)


def promotions_settings(**values) -> override_settings:
    return override_settings(PROMOTIONS={**shop_settings.PROMOTIONS, **values})


@pytest.fixture
def redis_buffer(redis_url):
    """The real Redis event buffer (database 15), switched on for the test."""
    with promotions_settings(REDIS_URL=redis_url):
        buffer._redis_down_until = 0.0
        yield buffer.redis_client()
