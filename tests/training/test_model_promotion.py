"""A recommender experiment's online winner becomes the active model: by hand, by the policy, and back."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from promotions.experiments.models import Assignment, Experiment, Variant
from promotions.experiments.promote import (
    PromotionError,
    decide_winner,
    online_winner,
    promote,
    promote_online_winners,
    revert,
)
from promotions.experiments.results import experiment_results
from promotions.experiments.stats import inference as stats
from promotions.tasks import promote_online_winners as promote_task
from promotions.tracking.models import Event
from promotions.training.models import ModelPromotion, ModelVersion
from promotions.training.pipeline import train
from promotions.training.versions import active_version

EXPOSED = datetime(2024, 5, 1, 12, tzinfo=UTC)


@pytest.fixture(autouse=True)
def no_holdout(settings) -> None:
    settings.PROMOTIONS = {**getattr(settings, "PROMOTIONS", {}), "HOLDOUT_SHARE": 0}


@pytest.fixture
def versions(shop) -> dict[str, ModelVersion]:
    """Two trained models: popularity (trained first, active) and item_knn (its own version)."""
    popularity = train(models=["popularity"])
    knn = train(models=["item_knn"])
    assert popularity.artifact and knn.artifact
    from promotions.training.versions import activate

    activate(popularity.pk)
    return {"popularity": ModelVersion.objects.get(pk=popularity.pk), "item_knn": ModelVersion.objects.get(pk=knn.pk)}


def model_experiment(method: str = Experiment.Method.FREQUENTIST, treatment_model: str = "item_knn") -> Experiment:
    experiment = Experiment.objects.create(key="models", name="Models", status="running", analysis_method=method)
    Variant.objects.create(
        experiment=experiment, key="control", weight=Decimal("0.5"), is_control=True, config={"model": "popularity"}
    )
    Variant.objects.create(experiment=experiment, key="knn", weight=Decimal("0.5"), config={"model": treatment_model})
    return experiment


def fill(experiment: Experiment, units: int, control_buyers: int, treatment_buyers: int) -> None:
    """``units`` exposed visitors per arm, the first ``*_buyers`` of each buying once after exposure."""
    control, treatment = experiment.variants.order_by("pk")
    for variant, buyers in ((control, control_buyers), (treatment, treatment_buyers)):
        for index in range(units):
            visitor = f"{variant.key}-{index}"
            Assignment.objects.create(
                experiment=experiment, unit_id=f"visitor:{visitor}", variant=variant, first_exposed_at=EXPOSED
            )
            if index < buyers:
                Event.objects.create(
                    event_type="purchase",
                    visitor_id=visitor,
                    quantity=1,
                    unit_price=Decimal("10"),
                    occurred_at=EXPOSED + timedelta(hours=1),
                    idempotency_key=uuid.uuid4().hex,
                )


def test_no_winner_while_the_difference_is_not_significant(versions):
    experiment = model_experiment()
    fill(experiment, units=200, control_buyers=20, treatment_buyers=24)
    results = experiment_results(experiment)
    treatment = results.variants[1]
    assert treatment.p_value_adjusted > stats.DEFAULT_ALPHA  # the engine's own verdict
    assert online_winner(experiment) is None
    with pytest.raises(PromotionError):
        promote(experiment)
    assert active_version().pk == versions["popularity"].pk


def test_a_significant_winner_is_made_active_concludes_the_experiment_and_reverts(versions):
    experiment = model_experiment()
    fill(experiment, units=300, control_buyers=15, treatment_buyers=60)
    winner = online_winner(experiment)
    assert winner is not None and winner.variant.key == "knn" and winner.version.pk == versions["item_knn"].pk
    results = experiment_results(experiment)
    assert winner.evidence["p_value_adjusted"] == results.variants[1].p_value_adjusted < 0.05
    assert winner.evidence["rel_lift"] == pytest.approx(float(results.variants[1].comparison.rel_lift))

    promotion = promote(experiment, by="owner")
    assert active_version().pk == versions["item_knn"].pk
    assert promotion.previous_version.pk == versions["popularity"].pk and not promotion.automatic
    experiment.refresh_from_db()
    assert experiment.status == Experiment.Status.CONCLUDED and experiment.winner.key == "knn"

    revert(promotion, by="owner")
    assert active_version().pk == versions["popularity"].pk
    assert ModelPromotion.objects.get().reverted_at is not None
    with pytest.raises(PromotionError):
        revert(ModelPromotion.objects.get())


def test_when_the_treatment_is_significantly_worse_the_control_model_wins(versions):
    experiment = model_experiment()
    fill(experiment, units=300, control_buyers=60, treatment_buyers=15)
    winner, compared = decide_winner(experiment_results(experiment))
    assert winner.variant.is_control and compared.variant.key == "knn"
    assert online_winner(experiment).model_name == "popularity"


def test_a_sample_ratio_mismatch_blocks_the_decision(versions):
    experiment = model_experiment()
    fill(experiment, units=300, control_buyers=15, treatment_buyers=60)
    control = experiment.variants.get(is_control=True)
    for index in range(300, 600):  # the control gets twice its designed share
        Assignment.objects.create(
            experiment=experiment, unit_id=f"visitor:extra-{index}", variant=control, first_exposed_at=EXPOSED
        )
    assert experiment_results(experiment).srm.flagged
    assert online_winner(experiment) is None


def test_a_winner_without_a_trained_version_is_not_activated(versions):
    experiment = model_experiment(treatment_model="ease")
    fill(experiment, units=300, control_buyers=15, treatment_buyers=60)
    winner = online_winner(experiment)
    assert winner.model_name == "ease" and winner.version is None
    with pytest.raises(PromotionError, match="no trained version"):
        promote(experiment)
    assert active_version().pk == versions["popularity"].pk


def test_the_policy_promotes_only_when_on_and_only_sequential_experiments(versions, settings):
    fixed = model_experiment()
    fill(fixed, units=300, control_buyers=15, treatment_buyers=60)
    assert promote_task() == []  # off by default
    settings.PROMOTIONS = {**settings.PROMOTIONS, "PROMOTE_ONLINE_WINNERS": True}
    assert promote_online_winners() == []  # a fixed-horizon test may not be peeked at by a policy
    Experiment.objects.filter(pk=fixed.pk).update(analysis_method=Experiment.Method.SEQUENTIAL)
    assert promote_task() == ["models"]
    promotion = ModelPromotion.objects.get()
    assert promotion.automatic and promotion.promoted_by == "policy"
    assert active_version().pk == versions["item_knn"].pk
    assert promote_online_winners() == []  # concluded: nothing more to do


def test_the_results_page_offers_the_switch_and_the_version_page_shows_online_figures(versions, admin_client):
    experiment = model_experiment()
    fill(experiment, units=300, control_buyers=15, treatment_buyers=60)
    page = admin_client.get(reverse("admin:promotions_experiment_results", args=[experiment.pk]))
    assert page.status_code == 200
    assert b"Online winner" in page.content and b"Make this model active" in page.content

    response = admin_client.post(reverse("admin:promotions_experiment_promote_model", args=[experiment.pk]))
    assert response.status_code == 302 and active_version().pk == versions["item_knn"].pk
    page = admin_client.get(reverse("admin:promotions_experiment_results", args=[experiment.pk]))
    assert b"Models made active from this experiment" in page.content

    version_page = admin_client.get(reverse("admin:promotions_modelversion_change", args=[versions["item_knn"].pk]))
    knn = experiment_results(experiment).variants[1]
    assert f"{100 * knn.rate:.1f}%".encode() in version_page.content  # the online rate, beside the offline table
    assert f"{100 * float(knn.comparison.rel_lift):+.1f}%".encode() in version_page.content

    changelist = reverse("admin:promotions_modelpromotion_changelist")
    promotion = ModelPromotion.objects.get()
    admin_client.post(changelist, {"action": "revert_promotion", "_selected_action": [promotion.pk]})
    assert active_version().pk == versions["popularity"].pk


def test_a_staff_user_without_both_permissions_cannot_promote(versions, client, django_user_model):
    experiment = model_experiment()
    fill(experiment, units=300, control_buyers=15, treatment_buyers=60)
    staff = django_user_model.objects.create_user("staff", password="x", is_staff=True)
    client.force_login(staff)
    response = client.post(reverse("admin:promotions_experiment_promote_model", args=[experiment.pk]))
    assert response.status_code == 403
    assert active_version().pk == versions["popularity"].pk
