"""Policy evaluation on a bandit slot's own log: a synthetic log whose policies' true values are known."""

import json
from datetime import timedelta
from decimal import Decimal

import numpy as np
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from promotions.offers.models import PromotionUpliftModel
from promotions.tracking.models import Event
from promotions.uplift import serving as serving_uplift
from promotions.uplift.app_policy import BY_UPLIFT, LOGGED, arm_label, evaluate_slot
from promotions.uplift.features import DEVICES
from promotions.uplift.linear import LinearUplift
from tests.offers.conftest import make_promotion

pytestmark = pytest.mark.django_db

#: True conversion rates: promotion A persuades visitors on mobile, B those on desktop.
RATES = {("A", "mobile"): 0.15, ("A", "desktop"): 0.05, ("B", "mobile"): 0.05, ("B", "desktop"): 0.15}


@pytest.fixture(autouse=True)
def fresh_models():
    serving_uplift.forget_uplift_models()
    yield
    serving_uplift.forget_uplift_models()


def event(kind, visitor, at, **fields):
    key = f"{kind}-{visitor}-{at.timestamp()}"
    return Event(event_type=kind, visitor_id=visitor, occurred_at=at, idempotency_key=key, **fields)


def write_log(a, b, now, visitors=6000, seed=0):
    """Half the visitors on mobile; the bandit gave A with probability 0.7 to some and 0.4 to others
    (its shares changed), and logged that probability with each pick."""
    rng = np.random.default_rng(seed)
    events = []
    for index in range(visitors):
        visitor = f"v{index:05d}"
        device = "mobile" if index % 2 else "desktop"
        at = now - timedelta(days=5, minutes=index)
        events.append(event("view", visitor, at - timedelta(hours=1), item_id="X", context={"device": device}))
        share_a = 0.7 if index % 3 else 0.4
        got_a = rng.random() < share_a
        promotion, name = (a, "A") if got_a else (b, "B")
        propensity = share_a if got_a else 1 - share_a
        events.append(
            event(
                "bandit_pick",
                visitor,
                at,
                promotion_id=promotion.pk,
                context={"slot": "home", "propensity": propensity},
            )
        )
        events.append(event("promotion_impression", visitor, at, promotion_id=promotion.pk))
        if rng.random() < RATES[(name, device)]:
            events.append(
                event("purchase", visitor, at + timedelta(hours=2), item_id="X", unit_price=Decimal(10), quantity=1)
            )
    Event.objects.bulk_create(events)


def device_model(promotion, device):
    """An uplift model under which the promotion persuades visitors on ``device`` only."""
    names = ["recency_days", "frequency", "purchases", "monetary", "categories_touched"]
    names += [f"device={d}" for d in DEVICES] + ["returning"]
    zeros = [0.0] * len(names)
    treated = list(zeros)
    treated[names.index(f"device={device}")] = 1.0
    model = LinearUplift(
        tuple(names), tuple(zeros), tuple(zeros), tuple([1.0] * len(names)), tuple(treated), -2.0, tuple(zeros), -2.0
    )
    PromotionUpliftModel.objects.create(promotion=promotion, n_treated=1, n_control=1, parameters=model.to_dict())


def covers(row, value):
    return row["low"] <= value <= row["high"]


def test_the_estimates_cover_the_true_values_and_the_uplift_policy_is_best():
    a, b = make_promotion(name="A"), make_promotion(name="B")
    now = timezone.now()
    write_log(a, b, now)
    device_model(a, "mobile")
    device_model(b, "desktop")
    report = evaluate_slot("home", days=30, resamples=500, seed=1, now=now)
    policies = report["policies"]
    assert report["visitors"] == 6000 and set(policies) == {
        LOGGED,
        arm_label(a.pk, {a.pk: "A"}),
        arm_label(b.pk, {b.pk: "B"}),
        BY_UPLIFT,
    }
    # Each single arm converts 10% overall; the uplift policy gives everyone their better arm: 15%.
    assert covers(policies[arm_label(a.pk, {a.pk: "A"})], 0.10) and covers(policies[arm_label(b.pk, {b.pk: "B"})], 0.10)
    assert covers(policies[BY_UPLIFT], 0.15)
    # The logged policy converts 10% too (every arm does, on average over devices).
    assert covers(policies[LOGGED], 0.10) and policies[LOGGED]["difference"] == 0
    assert policies[BY_UPLIFT]["difference_low"] > 0  # better than the logged policy, paired interval above 0


def test_without_uplift_models_only_the_logged_policy_and_single_arms_are_estimated(tmp_path, capsys):
    a, b = make_promotion(name="A"), make_promotion(name="B")
    write_log(a, b, timezone.now(), visitors=400)
    out = tmp_path / "policies.json"
    call_command("promotions_policy_evaluate", "--slot", "home", "--resamples", "200", "--json", str(out))
    printed = capsys.readouterr().out
    assert "logged policy" in printed and f"always {a.pk} A" in printed and BY_UPLIFT not in printed
    report = json.loads(out.read_text())
    assert report["visitors"] == 400 and set(report["policies"]) == {LOGGED, f"always {a.pk} A", f"always {b.pk} B"}


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["--slot", "nowhere"], "slot 'nowhere' logged 0 bandit picks"),
        (["--slot", "home", "--days", "0"], "--days must be at least 1"),
        (["--slot", "home", "--resamples", "5"], "--resamples must be at least 100"),
        (["--slot", "home", "--json", "/no/such/folder/out.json"], "folder /no/such/folder does not exist"),
    ],
)
def test_bad_input_exits_with_code_2_and_one_line(arguments, message):
    with pytest.raises(CommandError, match=message) as error:
        call_command("promotions_policy_evaluate", *arguments)
    assert error.value.returncode == 2
