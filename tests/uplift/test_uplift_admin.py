"""The admin: a promotion's ranking signal, uplift holdout and latest uplift model; a contextual
slot's shares per segment on its results page."""

from decimal import Decimal

import pytest
from django.urls import reverse

from promotions.offers.models import Promotion, PromotionUpliftModel, SlotConfig
from tests.offers.conftest import make_promotion

pytestmark = pytest.mark.django_db

FORM = {
    "name": "x", "message": "x", "slots": "[]", "status": "draft", "kind": "percentage", "value": "5",
    "buy_quantity": 0, "get_quantity": 0, "target_kind": "all", "target_values": "[]", "priority": 0,
    "audience": "any", "rules": "[]", "codes-TOTAL_FORMS": 0, "codes-INITIAL_FORMS": 0, "ranking_signal": "uplift",
}  # fmt: skip


def test_the_form_sets_the_signal_and_refuses_a_holdout_above_half(admin_client):
    url = reverse("admin:promotions_promotion_add")
    refused = admin_client.post(url, {**FORM, "uplift_holdout": "0.6"})
    assert refused.status_code == 200 and not Promotion.objects.exists()
    assert "errornote" in refused.text and "0.5" in refused.text
    admin_client.post(url, {**FORM, "uplift_holdout": "0.1"})
    promotion = Promotion.objects.get()
    assert promotion.ranking_signal == "uplift" and promotion.uplift_holdout == Decimal("0.1")


def test_the_change_page_shows_the_latest_uplift_model(admin_client):
    promotion = make_promotion()
    url = reverse("admin:promotions_promotion_change", args=[promotion.pk])
    assert "None yet" in admin_client.get(url).text
    PromotionUpliftModel.objects.create(promotion=promotion, n_treated=812, n_control=790, qini=0.1234, auuc=0.2)
    page = admin_client.get(url).text
    assert "812" in page and "790" in page and "0.123" in page


def test_a_contextual_slot_shows_its_shares_per_segment(admin_client):
    a, b = make_promotion(name="A"), make_promotion(name="B")
    config = SlotConfig.objects.create(
        slot="home",
        bandit=True,
        contextual=True,
        weights={str(a.pk): 0.5, str(b.pk): 0.5},
        segment_weights={"new|mobile|Lanterns": {str(a.pk): 0.95, str(b.pk): 0.05}},
    )
    page = admin_client.get(reverse("admin:promotions_slotconfig_results", args=[config.pk])).text
    assert 'class="segment-shares"' in page and "new|mobile|Lanterns" in page and "0.950" in page
