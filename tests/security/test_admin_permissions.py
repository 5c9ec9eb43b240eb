"""Admin actions behind the custom permissions, for the cases tests/experiments, tests/privacy and
tests/training leave out: pausing and stopping experiments, activating and training models, exporting."""

from __future__ import annotations

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from promotions.experiments.models import Experiment
from promotions.tracking.models import Visitor
from promotions.training.models import ModelVersion
from tests.experiments.factories import make_experiment

pytestmark = pytest.mark.django_db


def staff_client(django_user_model, *codenames: str) -> tuple[Client, object]:
    user = django_user_model.objects.create_user("editor", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    client = Client()
    client.force_login(user)
    return client, user


def grant(user, codename: str) -> None:
    user.user_permissions.add(Permission.objects.get(codename=codename))
    # has_perm caches per user object: the next request loads a fresh one.


@pytest.mark.parametrize("action, status", [("pause_experiments", "paused"), ("stop_experiments", "stopped")])
def test_pausing_and_stopping_need_the_stop_permission(django_user_model, action, status):
    experiment = make_experiment(status=Experiment.Status.RUNNING)
    client, user = staff_client(django_user_model, "view_experiment", "change_experiment", "start_experiment")
    url = reverse("admin:promotions_experiment_changelist")
    page = client.get(url).content.decode()
    assert f'value="{action}"' not in page  # not even offered
    client.post(url, {"action": action, ACTION_CHECKBOX_NAME: [experiment.pk]})
    assert Experiment.objects.get().status == Experiment.Status.RUNNING
    grant(user, "stop_experiment")
    client.post(url, {"action": action, ACTION_CHECKBOX_NAME: [experiment.pk]})
    assert Experiment.objects.get().status == status


def test_activating_a_version_needs_the_change_permission(django_user_model, tmp_path, settings):
    settings.MEDIA_ROOT = str(tmp_path)
    active = ModelVersion.objects.create(model_name="popularity", status=ModelVersion.Status.ACTIVE)
    ready = ModelVersion.objects.create(model_name="popularity", status=ModelVersion.Status.READY, artifact="x.npz")
    client, user = staff_client(django_user_model, "view_modelversion")
    url = reverse("admin:promotions_modelversion_changelist")
    client.post(url, {"action": "activate_version", ACTION_CHECKBOX_NAME: [ready.pk]})
    assert ModelVersion.objects.get(pk=active.pk).status == ModelVersion.Status.ACTIVE
    assert ModelVersion.objects.get(pk=ready.pk).status == ModelVersion.Status.READY
    grant(user, "change_modelversion")
    assert 'value="activate_version"' in client.get(url).content.decode()


def test_train_now_needs_the_change_permission(django_user_model, monkeypatch):
    from promotions.admin import training as training_admin

    started = []
    monkeypatch.setattr(training_admin, "start_training", lambda: started.append(1) or "started")
    client, user = staff_client(django_user_model, "view_modelversion")
    assert client.post(reverse("admin:promotions_modelversion_train")).status_code == 403
    assert started == []
    grant(user, "change_modelversion")
    assert client.post(reverse("admin:promotions_modelversion_train")).status_code == 302
    assert started == [1]


def test_exporting_a_persons_data_needs_view_permission_on_events_too(django_user_model):
    visitor = Visitor.objects.create(key="c" * 32)
    client, user = staff_client(django_user_model, "view_visitor")
    url = reverse("admin:promotions_visitor_changelist")
    response = client.post(url, {"action": "export_person_data", ACTION_CHECKBOX_NAME: [visitor.pk]})
    assert response.get("Content-Type", "").startswith("text/html")  # no JSON download
    grant(user, "view_event")
    response = client.post(url, {"action": "export_person_data", ACTION_CHECKBOX_NAME: [visitor.pk]})
    assert response["Content-Type"] == "application/json"
