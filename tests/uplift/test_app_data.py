"""Uplift models trained on the app's own randomized promotion data (events), stored as numbers."""

from datetime import timedelta
from decimal import Decimal

import numpy as np
import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings
from django.utils import timezone

from promotions.offers.models import Promotion, PromotionUpliftModel
from promotions.tracking.models import Event
from promotions.uplift.app_data import UPLIFT_ASSIGNMENT, bought_within, train_uplift_models
from promotions.uplift.linear import LinearUplift

pytestmark = pytest.mark.django_db


def event(kind, visitor, at, **fields):
    return Event(
        event_type=kind, visitor_id=visitor, occurred_at=at, idempotency_key=f"{kind}-{visitor}-{at}", **fields
    )


def write_log(promotion, now, visitors=1600, seed=0, assigned_days_ago=20):
    """Visitors assigned at random (half withheld). Mobile visitors are persuadable (+30 points of
    purchase probability when shown); desktop visitors buy at 10% either way."""
    rng = np.random.default_rng(seed)
    events = []
    truth = {}
    for index in range(visitors):
        visitor = f"v{index:05d}"
        mobile = index % 2 == 0
        assigned_at = now - timedelta(days=assigned_days_ago, minutes=index)
        for step in range(1 + index % 3):
            events.append(
                event(
                    "view",
                    visitor,
                    assigned_at - timedelta(days=3, hours=step),
                    context={"device": "mobile" if mobile else "desktop"},
                )
            )
        withheld = bool(rng.random() < 0.5)
        events.append(
            event(
                UPLIFT_ASSIGNMENT,
                visitor,
                assigned_at,
                promotion_id=promotion.pk,
                context={"withheld": withheld, "slot": "home"},
            )
        )
        probability = 0.1 + (0.3 if mobile and not withheld else 0.0)
        if rng.random() < probability:
            events.append(
                event("purchase", visitor, assigned_at + timedelta(days=2), unit_price=Decimal(10), quantity=1)
            )
        elif rng.random() < 0.5:  # bought after the window: not this assignment's outcome
            events.append(
                event("purchase", visitor, assigned_at + timedelta(days=9), unit_price=Decimal(10), quantity=1)
            )
        truth[visitor] = mobile
    Event.objects.bulk_create(events)
    return truth


@pytest.fixture
def promotion():
    return Promotion.objects.create(name="Lamps", message="10% off", status="active", uplift_holdout=Decimal("0.5"))


def test_training_on_the_event_log_ranks_the_persuadable_segment_first(promotion):
    now = timezone.now()
    write_log(promotion, now)
    [outcome] = train_uplift_models(now=now)
    model = outcome.model
    assert model is not None and model.promotion_id == promotion.pk
    assert 700 < model.n_treated < 900 and model.n_treated + model.n_control == 1600
    assert model.qini > 0.1 and model.auuc > 0.1
    stored = PromotionUpliftModel.objects.get()
    uplift = LinearUplift.from_dict(stored.parameters)
    mobile = np.zeros((1, len(uplift.names)))
    desktop = np.zeros((1, len(uplift.names)))
    mobile[0, uplift.names.index("device=mobile")] = 1.0
    desktop[0, uplift.names.index("device=desktop")] = 1.0
    for row in (mobile, desktop):
        row[0, uplift.names.index("recency_days")] = 3.0
        row[0, uplift.names.index("frequency")] = 1.0
    predicted_mobile, predicted_desktop = uplift.predict_uplift(mobile)[0], uplift.predict_uplift(desktop)[0]
    assert predicted_mobile > predicted_desktop + 0.15
    assert 0.15 < predicted_mobile < 0.45 and abs(predicted_desktop) < 0.08


def test_assignments_whose_window_has_not_ended_wait_and_thin_promotions_are_skipped(promotion):
    now = timezone.now()
    write_log(promotion, now, visitors=600, assigned_days_ago=3)  # inside the 7-day click window
    [outcome] = train_uplift_models(now=now)
    assert outcome.model is None and (outcome.n_treated, outcome.n_control) == (0, 0)
    [outcome] = train_uplift_models(now=now + timedelta(days=10), min_per_arm=400)
    assert outcome.model is None and "each needs 400" in outcome.skipped
    with override_settings(PROMOTIONS={**settings.PROMOTIONS, "UPLIFT_MIN_PER_ARM": 350}):
        [outcome] = train_uplift_models(now=now + timedelta(days=10))  # the setting is the default
    assert outcome.model is None and "each needs 350" in outcome.skipped
    assert not PromotionUpliftModel.objects.exists()


def test_the_outcome_is_a_purchase_within_the_click_window_after_the_assignment():
    now = timezone.now()
    Event.objects.bulk_create(
        [
            event("purchase", "early", now - timedelta(hours=1)),
            event("purchase", "inside", now + timedelta(days=6)),
            event("purchase", "late", now + timedelta(days=8)),
        ]
    )
    as_of = {"early": now, "inside": now, "late": now, "never": now}
    assert bought_within(as_of, timedelta(days=7)) == {"early": False, "inside": True, "late": False, "never": False}


def test_the_command_trains_and_prints_and_refuses_bad_input(promotion, capsys):
    now = timezone.now()
    write_log(promotion, now, visitors=1000, seed=1)
    call_command("promotions_train_uplift", "--min-per-arm", "100")
    out = capsys.readouterr().out
    assert "trained" in out and f"{promotion.pk} Lamps" in out
    for bad, message in ((["--days", "0"], "--days"), (["--promotion", "999"], "no promotion with id 999")):
        with pytest.raises(CommandError, match=message) as error:
            call_command("promotions_train_uplift", *bad)
        assert error.value.returncode == 2
