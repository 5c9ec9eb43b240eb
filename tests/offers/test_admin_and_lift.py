"""The promotion admin (figures, preview, refunds), the bandit re-weighting and the lift page."""

import math
from datetime import timedelta
from decimal import Decimal

import numpy as np
import pytest
from django.conf import settings
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from promotions.offers.budget import redeem
from promotions.offers.models import Promotion, SlotConfig
from promotions.serving.bandit import reweight
from promotions.serving.lift import days_to_detect, holdout_lift
from promotions.tracking.models import Event
from promotions.visitors.holdout import is_held_out

from .conftest import make_promotion

pytestmark = pytest.mark.django_db


def test_changelist_shows_live_figures_and_the_change_form_a_preview(admin_client):
    promotion = make_promotion(message="Spring <sale>")
    Event.objects.create(
        event_type="promotion_click",
        visitor_id="v",
        promotion_id=promotion.pk,
        occurred_at=timezone.now(),
        idempotency_key="k",
    )
    changelist = admin_client.get(reverse("admin:promotions_promotion_changelist"))
    assert changelist.status_code == 200
    row = changelist.text[changelist.text.index('class="field-clicks"') :][:40]
    assert ">1<" in row
    change = admin_client.get(reverse("admin:promotions_promotion_change", args=[promotion.pk]))
    assert f'class="promotion-message" id="promotion-preview-{promotion.pk}">Spring &lt;sale&gt;</h3>' in change.text


def test_unknown_slots_are_refused_by_the_admin_form(admin_client):
    response = admin_client.post(
        reverse("admin:promotions_promotion_add"),
        {"name": "x", "message": "x", "slots": '["attic"]', "status": "draft", "kind": "percentage", "value": "5",
         "buy_quantity": 0, "get_quantity": 0, "target_kind": "all", "target_values": "[]", "priority": 0,
         "audience": "any", "rules": "[]", "codes-TOTAL_FORMS": 0, "codes-INITIAL_FORMS": 0},
    )  # fmt: skip
    assert response.status_code == 200 and "Unknown slots: attic" in response.text
    assert not Promotion.objects.exists()


def test_refund_action_returns_the_discount_to_the_budget(admin_client):
    promotion = make_promotion(max_discount_total=Decimal("10"))
    redemption = redeem(promotion.pk, Decimal("6"), order_ref="1")
    admin_client.post(
        reverse("admin:promotions_redemption_changelist"),
        {"action": "refund_selected", "_selected_action": [redemption.pk]},
    )
    promotion.refresh_from_db()
    assert promotion.discount_spent == 0 and promotion.redemptions_count == 0


def test_bandit_shares_favour_the_better_arm_and_spent_budgets_get_no_traffic():
    good, bad, spent = make_promotion(), make_promotion(), make_promotion(max_redemptions=1)
    Promotion.objects.filter(pk=spent.pk).update(redemptions_count=1)
    config = SlotConfig.objects.create(slot="home", bandit=True, burn_in=10, min_share=Decimal("0.05"))
    stats = {str(good.pk): {"overall": [1000, 80, 0, 0]}, str(bad.pk): {"overall": [1000, 40, 0, 0]}}
    shares = reweight(config, stats, np.random.default_rng(0))
    assert shares[str(spent.pk)] == 0 and shares[str(good.pk)] > 0.9 and shares[str(bad.pk)] >= 0.05
    config.refresh_from_db()
    assert config.weights == shares and config.weights_updated_at is not None


def test_days_to_detect_matches_the_equal_split_formula_and_grows_with_a_smaller_holdout():
    # With half held out this is the classic two-arm sample size: n per arm = (z_a + z_b)^2 (v1 + v2) / d^2.
    per_arm = (1.959964 + 0.841621) ** 2 * (0.02 * 0.98 + 0.021 * 0.979) / 0.001**2
    assert math.isclose(days_to_detect(0.02, 0.05, 0.5, 1000), 2 * per_arm / 1000, rel_tol=1e-5)
    assert days_to_detect(0.02, 0.05, 0.05, 1000) > 5 * days_to_detect(0.02, 0.05, 0.5, 1000)
    assert days_to_detect(0.0, 0.05, 0.05, 1000) == math.inf


@override_settings(PROMOTIONS={**settings.PROMOTIONS, "HOLDOUT_SHARE": 0.5})
def test_the_lift_page_compares_personalized_visitors_with_the_holdout(admin_client):
    now = timezone.now()
    people = [f"{n:032x}" for n in range(200)]
    for n, visitor in enumerate(people):
        Event.objects.create(
            event_type="view",
            visitor_id=visitor,
            item_id="A",
            occurred_at=now - timedelta(days=1),
            idempotency_key=f"v{n}",
        )
        if not is_held_out(visitor) or n % 4 == 0:  # personalized visitors all buy, a quarter of the holdout
            Event.objects.create(
                event_type="purchase",
                visitor_id=visitor,
                item_id="A",
                quantity=1,
                unit_price=Decimal("10"),
                occurred_at=now - timedelta(hours=20),
                idempotency_key=f"p{n}",
            )
    lift = holdout_lift(28, now)
    held_out = [p for p in people if is_held_out(p)]
    assert lift.holdout.n == len(held_out) and lift.personalized.n == 200 - len(held_out)
    assert lift.personalized.mean == 1.0 and lift.conversion.abs_lift > 0.5 and lift.conversion.p_value < 1e-6
    assert math.isclose(float(lift.personalized_revenue.mean), 10.0)
    page = admin_client.get(reverse("admin:promotions_promotion_lift"))
    assert page.status_code == 200 and f"<td>{len(held_out)}</td>" in page.text and "planner" in page.text


def test_bandit_picks_are_logged_with_their_propensity_and_the_results_page_reports_ipw(admin_client):
    from promotions.serving.bandit import bandit_results
    from promotions.serving.promotions import BANDIT_PICK

    a, b = make_promotion(name="A"), make_promotion(name="B")
    config = SlotConfig.objects.create(slot="home", bandit=True, weights={str(a.pk): 0.8, str(b.pk): 0.2})
    now = timezone.now()

    def pick(n, promotion, propensity, bought):
        def log(kind, key, hours, **fields):
            Event.objects.create(
                event_type=kind,
                visitor_id=f"v{n}",
                occurred_at=now - timedelta(hours=hours),
                idempotency_key=f"{key}{n}",
                **fields,
            )

        log(BANDIT_PICK, "b", 3, promotion_id=promotion.pk, context={"slot": "home", "propensity": propensity})
        log("promotion_impression", "i", 3, promotion_id=promotion.pk)
        if bought:
            log("purchase", "p", 2, item_id="X", quantity=1, unit_price=Decimal(1))

    for n in range(8):
        pick(n, a, 0.8, bought=n < 4)  # A: 4 of 8 converted
    for n in range(8, 10):
        pick(n, b, 0.2, bought=n == 8)  # B: 1 of 2
    results = {r.promotion.name: r for r in bandit_results(config)}
    # IPW over all 10 visitors: A = (4 / 0.8) / 10 = 0.5, B = (1 / 0.2) / 10 = 0.5; the plain rates agree here.
    assert results["A"].estimate.ipw.mean == pytest.approx(0.5) and results["B"].estimate.ipw.mean == pytest.approx(0.5)
    assert results["A"].estimate.visitors == 8 and results["A"].share == 0.8
    page = admin_client.get(reverse("admin:promotions_slotconfig_results", args=[config.pk]))
    assert page.status_code == 200 and "biased" in page.text and 'class="ipw">0.5000<' in page.text


def test_a_bandit_slot_logs_its_pick_on_render():
    from promotions.serving.promotions import BANDIT_PICK, personalized_promotions
    from tests.offers.conftest import visitor_request

    a = make_promotion(name="A")
    SlotConfig.objects.create(slot="home", bandit=True, weights={str(a.pk): 1.0})
    request = visitor_request()
    personalized_promotions(request, "home", 1)
    [event] = [e for e in request.promotions.events if e["event_type"] == BANDIT_PICK]
    assert event["promotion_id"] == a.pk and event["context"] == {"slot": "home", "propensity": 1.0}


def test_figures_and_the_lift_page_need_their_permission(client, django_user_model):
    from django.contrib.auth.models import Permission

    make_promotion(name="Spring")
    staff = django_user_model.objects.create_user("clerk", password="x", is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_promotion"))
    client.force_login(staff)
    changelist = client.get(reverse("admin:promotions_promotion_changelist"))
    assert (
        changelist.status_code == 200 and "Spring" in changelist.text and 'class="field-clicks"' not in changelist.text
    )
    assert client.get(reverse("admin:promotions_promotion_lift")).status_code == 403
    assert reverse("admin:promotions_promotion_lift") not in changelist.text  # no link to a page it may not open
    staff.user_permissions.add(Permission.objects.get(codename="view_promotion_figures"))
    staff = django_user_model.objects.get(pk=staff.pk)  # permissions are cached on the instance
    client.force_login(staff)
    changelist = client.get(reverse("admin:promotions_promotion_changelist")).text
    assert 'class="field-clicks"' in changelist
    assert f'href="{reverse("admin:promotions_promotion_lift")}"' in changelist  # the list links the lift page
    assert client.get(reverse("admin:promotions_promotion_lift")).status_code == 200
