"""What the demo measures: two running experiments, a bandit slot, and the models they name.

- ``demo-personalized-promotions`` on the home slot: the visitor's personalized promotions and
  picks (variant ``personalized``, ``{"personalized": true}``) against everyone's list (control
  ``not-personalized``, ``{"personalized": false}``), 50/50, primary metric conversion.
- ``demo-recommender`` on the cart slot: the hybrid recommender (``{"model": "hybrid"}``) against
  item-kNN (control, ``{"model": "item_knn"}``), 50/50, primary metric revenue per visitor (the
  cart's blocks show only to visitors with a cart, nearly all of whom buy: what the picks change
  is how much).
- the product page's promotion slot runs as a bandit over the live promotions (burn-in 20
  visitors per arm, so that the replay's traffic moves its shares).
- the global holdout is the app's own (``PROMOTIONS["HOLDOUT_SHARE"]``): its visitors see no
  personalization and are in no experiment; the lift page compares them with everyone else.

Everything is created once (by key or slot) and left as the staff changed it afterwards.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from promotions.experiments.models import Experiment, Variant
from promotions.offers.models import SlotConfig
from promotions.training.models import ModelVersion

HOME_EXPERIMENT = "demo-personalized-promotions"
RECOMMENDER_EXPERIMENT = "demo-recommender"
HOME_SLOT, CART_SLOT, BANDIT_SLOT = "home", "cart", "product"
BANDIT_BURN_IN = 20

#: key -> (name, hypothesis, slot, [(variant key, config, is control)])
EXPERIMENTS = {
    HOME_EXPERIMENT: (
        "Personalized promotions vs not",
        "Promotions and picks chosen for the visitor convert more visitors than the same list for everyone.",
        HOME_SLOT,
        [("not-personalized", {"personalized": False}, True), ("personalized", {"personalized": True}, False)],
    ),
    RECOMMENDER_EXPERIMENT: (
        "Recommender: hybrid vs item-kNN",
        "The hybrid recommender's picks in the cart earn more per visitor than item-kNN's.",
        CART_SLOT,
        [("item-knn", {"model": "item_knn"}, True), ("hybrid", {"model": "hybrid"}, False)],
    ),
}


def experiment_models() -> list[str]:
    """The recommender models the demo's experiments name (they need a trained version each)."""
    return sorted(
        {
            config["model"]
            for _name, _hypothesis, _slot, variants in EXPERIMENTS.values()
            for _key, config, _control in variants
            if "model" in config
        }
    )


def set_up_measurement() -> list[str]:
    """Create the experiments (running), their slots and the bandit slot where missing; returns
    what was created, one line each."""
    created = []
    with transaction.atomic():
        for key, (name, hypothesis, slot, variants) in EXPERIMENTS.items():
            metrics = [Experiment.Metric.CONVERSION, Experiment.Metric.REVENUE]
            if slot == CART_SLOT:  # the cart's blocks show only with a cart: nearly all of its units buy
                metrics.reverse()
            experiment, made = Experiment.objects.get_or_create(
                key=key,
                defaults={
                    "name": name,
                    "hypothesis": hypothesis,
                    "status": Experiment.Status.RUNNING,
                    "started_at": timezone.now(),
                    "primary_metric": metrics[0],
                    "guardrail_metrics": metrics[1:],
                },
            )
            if made:
                share = Decimal(1) / len(variants)
                for variant_key, config, control in variants:
                    Variant.objects.create(
                        experiment=experiment, key=variant_key, weight=share, is_control=control, config=config
                    )
                created.append(f"experiment {key!r} on the {slot} slot")
            config, made = SlotConfig.objects.get_or_create(slot=slot, defaults={"experiment": experiment})
            if made:
                created.append(f"slot {slot!r}")
        _bandit, made = SlotConfig.objects.get_or_create(
            slot=BANDIT_SLOT, defaults={"bandit": True, "burn_in": BANDIT_BURN_IN}
        )
        if made:
            created.append(f"bandit slot {BANDIT_SLOT!r}")
    return created


def servable_version(name: str, newer_than: int = 0) -> ModelVersion | None:
    """The newest version of the model that serving may load, with an id above ``newer_than``."""
    servable = (*ModelVersion.ACTIVATABLE, ModelVersion.Status.ACTIVE)
    versions = ModelVersion.objects.filter(model_name=name, status__in=servable, pk__gt=newer_than)
    return versions.exclude(artifact="").order_by("-pk").first()


def model_versions(names: list[str], newer_than: int = 0) -> tuple[list[int], list[str]]:
    """The newest servable version of each named model stored after ``newer_than`` (training
    stores every model an open experiment names, ``promotions.training.servable``): their ids, and
    the names that have none."""
    ids, missing = [], []
    for name in names:
        version = servable_version(name, newer_than)
        if version is None:
            missing.append(name)
        else:
            ids.append(version.pk)
    return ids, missing
