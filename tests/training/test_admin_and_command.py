from io import StringIO

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from promotions import tasks
from promotions.admin import training as training_admin
from promotions.training import pipeline
from promotions.training.models import ModelVersion
from promotions.training.versions import active_version

CHANGELIST = "admin:promotions_modelversion_changelist"


def test_the_changelist_shows_figures_side_by_side_and_a_train_button(shop, admin_client):
    version = pipeline.train(["popularity"])
    page = admin_client.get(reverse(CHANGELIST)).content.decode()
    assert "NDCG@10" in page and f"{version.metrics['ndcg']:.4f}" in page
    assert reverse("admin:promotions_modelversion_train") in page and "Train now" in page
    detail = admin_client.get(reverse("admin:promotions_modelversion_change", args=[version.pk]))
    assert detail.status_code == 200 and b'name="_save"' not in detail.content  # read-only


def test_the_admin_action_rolls_back_to_an_earlier_version(shop, admin_client):
    first = pipeline.train(["popularity"])
    second = pipeline.train(["item_knn"])
    response = admin_client.post(
        reverse(CHANGELIST), {"action": "activate_version", ACTION_CHECKBOX_NAME: [first.pk]}, follow=True
    )
    assert f"Version {first.pk} is now active." in response.content.decode()
    assert active_version() == first
    assert ModelVersion.objects.get(pk=second.pk).status == ModelVersion.Status.RETIRED
    assert ModelVersion.objects.filter(status=ModelVersion.Status.ACTIVE).count() == 1


def test_train_now_runs_the_command_in_another_process_in_eager_mode(db, admin_client, monkeypatch):
    started = []
    monkeypatch.setattr(training_admin.subprocess, "Popen", lambda args, **kwargs: started.append(args))
    monkeypatch.setattr(training_admin, "has_real_broker", lambda: False)
    response = admin_client.post(reverse("admin:promotions_modelversion_train"), follow=True)
    assert started and started[0][-1] == "promotions_train"
    assert "separate process" in response.content.decode()


def test_train_now_enqueues_the_task_with_a_real_broker(db, admin_client, monkeypatch):
    queued = []
    monkeypatch.setattr(training_admin, "has_real_broker", lambda: True)
    monkeypatch.setattr(tasks.train_models, "delay", lambda: queued.append(True))
    admin_client.post(reverse("admin:promotions_modelversion_train"))
    assert queued == [True]


def test_the_task_trains(shop):
    version_id = tasks.train_models()
    assert ModelVersion.objects.get(pk=version_id).status == ModelVersion.Status.ACTIVE


def test_the_command_prints_each_models_figures_and_the_active_version(shop):
    out = StringIO()
    call_command("promotions_train", "--models", "item_knn", stdout=out)
    text = out.getvalue()
    assert "popularity  NDCG@10" in text and "item_knn  NDCG@10" in text
    assert f"Active version: {active_version()}" in text


def test_the_command_refuses_an_unknown_model_with_exit_code_2(db):
    with pytest.raises(CommandError) as raised:
        call_command("promotions_train", "--models", "item_knn,nonsense")
    assert raised.value.returncode == 2
    assert "nonsense" in str(raised.value) and "\n" not in str(raised.value)
    assert not ModelVersion.objects.exists()


def test_the_task_skips_while_another_run_is_in_progress(shop):
    ModelVersion.objects.create(status=ModelVersion.Status.TRAINING)
    assert tasks.train_models() is None
    assert ModelVersion.objects.count() == 1


def test_a_deep_version_keeps_its_loss_curve_and_tensorboard_logs(shop, settings, tmp_path, monkeypatch):
    from .test_pipeline import fake_scores

    settings.PROMOTIONS = {**getattr(settings, "PROMOTIONS", {}), "TRAINING_LOG_DIR": str(tmp_path / "tb")}
    monkeypatch.setattr(pipeline, "score", fake_scores({"popularity": 0.1, "sequential": 0.5}))
    version = pipeline.train(["sequential"])
    assert version.model_name == "sequential"
    curve = version.metrics["loss_curve"]
    assert len(curve) == version.parameters["epochs"] and all(loss > 0 for loss in curve)
    assert "log_dir" not in version.parameters
    log_dir = tmp_path / "tb" / f"version-{version.pk}-sequential"
    assert version.metrics["log_dir"] == str(log_dir) and any(log_dir.iterdir())
    assert list(version.load_model().loss_curve) == curve


def test_the_change_page_draws_the_training_curve(db, admin_client):
    deep = ModelVersion.objects.create(
        model_name="neural", status=ModelVersion.Status.READY, metrics={"loss_curve": [7.5, 6.25, 5.0]}
    )
    page = admin_client.get(reverse("admin:promotions_modelversion_change", args=[deep.pk])).content.decode()
    assert "promotions-chart-line" in page and "Training loss per epoch" in page
    assert "3 epochs, loss 7.5000 to 5.0000" in page
    assert page.count('class="point"') == 3 and "<polyline" in page
    plain = ModelVersion.objects.create(model_name="ease", status=ModelVersion.Status.READY, metrics={"ndcg": 0.1})
    page = admin_client.get(reverse("admin:promotions_modelversion_change", args=[plain.pk])).content.decode()
    assert "promotions-chart" not in page and "training curve" in page.lower()


def test_the_version_page_shows_a_metrics_table_and_readable_durations(shop, admin_client):
    version = pipeline.train(["item_knn"])
    ModelVersion.objects.filter(pk=version.pk).update(duration_seconds=128.67019192899988)
    page = admin_client.get(reverse("admin:promotions_modelversion_change", args=[version.pk])).content.decode()
    assert "2 min 9 s" in page and "128.67" not in page
    assert '"candidates"' not in page  # no raw JSON blob
    table = page[page.index('class="promotions-metrics"') :]
    table = table[: table.index("</table>")]
    # One row per metric, a column per scored model, rounded to 4 decimals.
    assert table.count('<th scope="row">') >= 6 and "Hit rate@10" in table
    figures = version.metrics["candidates"]["item_knn"]
    assert f"{figures['ndcg']:.4f}" in table and f"{figures['ndcg']:.6f}" not in table
    assert "popularity" in table and "(chosen)" in table
    listing = admin_client.get(reverse(CHANGELIST)).content.decode()
    assert "2 min 9 s" in listing and "fit seconds" not in listing and "training rows" not in listing


@pytest.mark.parametrize(
    ("seconds", "text"), [(1.27, "1.3 s"), (42.4, "42 s"), (128.67, "2 min 9 s"), (3930, "1 h 5 min"), (None, "-")]
)
def test_durations_read_as_seconds_minutes_and_hours(seconds, text):
    assert training_admin.readable_duration(seconds) == text


def test_the_progress_count_matches_the_models_listed(shop):
    steps = []
    version = pipeline.train(["item_knn"], progress=lambda done, total: steps.append((done, total)))
    listed = len(version.metrics["candidates"])
    assert steps == [(step, listed) for step in range(1, listed + 1)]
