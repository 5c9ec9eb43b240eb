"""RECOMMENDATION_DIVERSITY in serving: live and precomputed lists re-ranked by MMR over the shop's categories."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import override_settings
from django.utils import timezone

from promotions.recommenders.base import DIVERSITY_POOL
from promotions.recommenders.diversity import mmr
from promotions.serving.models_cache import model_for_serving
from promotions.serving.recommendations import HEADROOM, recommendations_for
from promotions.tracking.capture import make_event
from promotions.tracking.models import Event
from promotions.tracking.privacy import visitor_cache_key
from promotions.training.models import RECOMMENDATIONS_CACHE_NAME
from promotions.training.precompute import precompute_recommendations
from shop_demo.models import Product
from tests.offers.conftest import visitor_request

pytestmark = pytest.mark.django_db

VISITOR = "a" * 32
#: A mug, then a lantern viewed: the model ranks two mugs first, then lanterns.
VIEWED = ["M1", "L1"]


def viewer():
    request = visitor_request(visitor_id=VISITOR)
    for item in VIEWED:
        request.promotions.events.append(make_event(request, "view", item_id=item))
    return request


def promotions(**values):
    """The test project's PROMOTIONS with ``values`` over it."""
    return override_settings(PROMOTIONS={**settings.PROMOTIONS, **values})


def categories() -> dict[str, str]:
    return {p.stock_code: p.category.name for p in Product.objects.select_related("category")}


def served(k: int, diversity: float) -> list[str]:
    with promotions(RECOMMENDATION_DIVERSITY=diversity):
        cache.clear()
        return [pick.card.id for pick in recommendations_for(viewer(), k)]


def test_live_lists_gain_categories_and_match_the_pure_mmr(active_model):
    k = 2
    plain, diverse = served(k, 0.0), served(k, 0.5)
    found = categories()
    assert len({found[i] for i in diverse}) > len({found[i] for i in plain}), (plain, diverse)
    # The same scores the model gives this visitor, re-ranked by the pure function.
    _version, model = model_for_serving(None)
    scored = model.recommend(VISITOR, VIEWED, k=(k + HEADROOM) * DIVERSITY_POOL)
    assert diverse == mmr([(r.item_id, r.score) for r in scored], found, k, 0.5)
    # At 0 the list is the model's own order.
    assert plain == [r.item_id for r in model.recommend(VISITOR, VIEWED, k=k)]


def test_precomputed_lists_are_diversified_only_when_set(active_model):
    for n, item in enumerate(VIEWED):
        Event.objects.create(
            event_type="view",
            visitor_id=VISITOR,
            item_id=item,
            occurred_at=timezone.now() - timedelta(hours=1, minutes=-n),
            idempotency_key=f"v{n}",
        )
    found = categories()
    key = visitor_cache_key(VISITOR, RECOMMENDATIONS_CACHE_NAME)
    _version, model = model_for_serving(None)
    lists = {}
    for diversity in (0.0, 0.5):
        with promotions(RECOMMENDATION_DIVERSITY=diversity, PRECOMPUTE_TOP_N=2):
            assert precompute_recommendations(model, active_model.pk) == 1
            lists[diversity] = [row["item_id"] for row in cache.get(key)["items"]]
    assert lists[0.0] == [r.item_id for r in model.recommend(VISITOR, VIEWED, k=2)]
    scored = model.recommend(VISITOR, VIEWED, k=2 * DIVERSITY_POOL)
    assert lists[0.5] == mmr([(r.item_id, r.score) for r in scored], found, 2, 0.5)
    assert len({found[i] for i in lists[0.5]}) > len({found[i] for i in lists[0.0]})


def test_a_diversity_out_of_range_is_a_system_check_error():
    from promotions.checks import check_settings

    with promotions(RECOMMENDATION_DIVERSITY=1.5):
        assert [e.id for e in check_settings() if "RECOMMENDATION_DIVERSITY" in e.msg] == ["promotions.E008"]
    with promotions(RECOMMENDATION_DIVERSITY=0.5):
        assert not [e for e in check_settings() if "RECOMMENDATION_DIVERSITY" in e.msg]
