"""A recommender experiment (hybrid vs item-kNN) serves each variant its own model, counted apart;
a variant whose model has no stored version gets best sellers and a warning, never the active model."""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.template import Context, Template
from django.test import override_settings
from django.utils import timezone

from promotions.experiments.models import Assignment, Experiment, Variant
from promotions.experiments.results import variant_counts
from promotions.offers.models import SlotConfig
from promotions.recommenders import MODELS
from promotions.tracking.models import Event
from promotions.training import versions
from promotions.training.models import ModelVersion
from shop_demo.models import Product

from .conftest import forget_everything, interactions, lantern_fan

pytestmark = pytest.mark.django_db
NO_HOLDOUT = {**settings.PROMOTIONS, "HOLDOUT_SHARE": 0}


def store(name: str) -> ModelVersion:
    items = [{"id": p.stock_code, "title": p.title, "category": p.category.name} for p in Product.objects.all()]
    model = MODELS[name]().fit(interactions(), items)
    version = ModelVersion.objects.create(model_name=name, status=ModelVersion.Status.READY)
    version.artifact.save(f"{name}-{version.pk}.npz", ContentFile(model.save()), save=True)
    return version


@pytest.fixture
def experiment(catalogue):
    popularity = store("popularity")  # the active model: neither variant may get it
    versions.activate(popularity.pk)
    store("hybrid"), store("item_knn")
    experiment = Experiment.objects.create(key="recs", name="Recommenders", status=Experiment.Status.RUNNING)
    for key, model in (("control", "hybrid"), ("knn", "item_knn")):
        Variant.objects.create(
            experiment=experiment, key=key, weight=Decimal("0.5"), is_control=key == "control", config={"model": model}
        )
    SlotConfig.objects.create(slot="home", experiment=experiment)
    return experiment


def rendered_items(request) -> list[str]:
    html = Template(
        '{% load promotions %}{% recommended_products limit=4 slot="home" as picks %}'
        "{% for p in picks %}{{ p.card.id }},{% endfor %}"
    ).render(Context({"request": request}))
    return [item for item in html.split(",") if item]


def expected(name: str, person: str) -> list[str]:
    """The named model's own list for a visitor who viewed L1 (unavailable items are none here)."""
    model = ModelVersion.objects.filter(model_name=name).get().load_model()
    return [r.item_id for r in model.recommend(person, ["L1"], k=4)]


@override_settings(PROMOTIONS=NO_HOLDOUT)
def test_each_variant_serves_its_own_model_and_is_counted_apart(experiment):
    seen: dict[str, list[str]] = {"control": [], "knn": []}
    for index in range(40):
        visitor = uuid.UUID(int=index + 1).hex
        forget_everything()
        request = lantern_fan(visitor)
        items = rendered_items(request)
        variant = Assignment.objects.get(unit_id=f"visitor:{visitor}").variant
        assert items == expected(variant.config["model"], visitor), variant.key
        seen[variant.key].append(visitor)
    assert len(seen["control"]) >= 5 and len(seen["knn"]) >= 5
    assert expected("hybrid", "x") != expected("item_knn", "x") != expected("popularity", "x")
    # Every second visitor of each variant buys after the exposure.
    later = timezone.now() + timedelta(minutes=1)
    buyers = {key: visitors[::2] for key, visitors in seen.items()}
    for visitor in buyers["control"] + buyers["knn"]:
        Event.objects.create(
            event_type="purchase",
            visitor_id=visitor,
            item_id="L2",
            quantity=1,
            unit_price=Decimal(10),
            occurred_at=later,
            idempotency_key=uuid.uuid4().hex,
        )
    counts = variant_counts(experiment, Experiment.Metric.CONVERSION)
    for key in ("control", "knn"):
        row = counts[experiment.variants.get(key=key).pk]
        assert row["units"] == len(seen[key]) and row["conversions"] == len(buyers[key])
        assert row["revenue_sum"] == pytest.approx(10.0 * len(buyers[key]))


@override_settings(PROMOTIONS=NO_HOLDOUT)
def test_a_variant_whose_model_is_missing_gets_best_sellers_and_a_warning_not_the_active_model(experiment, caplog):
    ModelVersion.objects.filter(model_name="item_knn").delete()
    now = timezone.now()
    for index, item in enumerate(["M3", "M3", "M3", "C2", "C2"]):
        Event.objects.create(
            event_type="purchase",
            visitor_id=f"b{index}",
            item_id=item,
            occurred_at=now,
            idempotency_key=uuid.uuid4().hex,
        )
    for index in range(40):
        visitor = uuid.UUID(int=index + 1).hex
        forget_everything()
        with caplog.at_level(logging.WARNING, logger="promotions.fallback"):
            items = rendered_items(lantern_fan(visitor))
        if Assignment.objects.get(unit_id=f"visitor:{visitor}").variant.key == "knn":
            break
    else:
        pytest.fail("no visitor in the item_knn variant")
    assert items == ["M3", "C2"]  # the best sellers of the log, not popularity's list
    assert items != expected("popularity", visitor)[:2]
    assert "reason=model_missing model=item_knn" in caplog.text
