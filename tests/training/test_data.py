from datetime import timedelta

import numpy as np
import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from promotions.tracking.models import Visitor
from promotions.training import data

from .conftest import add_event


@pytest.mark.django_db
def test_person_ids_follow_linked_users_then_visitor_ids():
    alice = get_user_model().objects.create_user("alice")
    bob = get_user_model().objects.create_user("bob")
    Visitor.objects.create(key="phone", user=alice)
    now = timezone.now()
    add_event("phone", "A", now)  # a linked visitor: the user
    add_event("laptop", "B", now + timedelta(seconds=1), user=bob)  # the event names the user
    add_event("anon", "C", now + timedelta(seconds=2))  # neither: the visitor id
    rows = list(data.interaction_rows())
    assert [(row[0], row[1]) for row in rows] == [(f"u:{alice.pk}", "A"), (f"u:{bob.pk}", "B"), ("anon", "C")]


@pytest.mark.django_db
def test_only_interaction_events_with_an_item_are_read_and_weighted_by_type():
    now = timezone.now()
    add_event("v", "A", now, "view")
    add_event("v", "B", now, "add_to_cart")
    add_event("v", "C", now, "purchase", quantity=1)
    add_event("v", "D", now, "rating")
    add_event("v", "E", now, "search")
    add_event("v", "F", now, "promotion_click")
    add_event("v", "", now, "view")
    log = data.interaction_log()
    assert sorted(log.items.tolist()) == ["A", "B", "C", "D"]
    interactions = log.to_interactions(data.weighting())
    weights = dict(zip(interactions.item_ids.tolist(), interactions.matrix.toarray()[0], strict=True))
    assert weights == {"A": 1.0, "B": 3.0, "C": 5.0, "D": 2.0}


@pytest.mark.django_db
def test_event_weights_come_from_the_setting(settings):
    settings.PROMOTIONS = {**settings.PROMOTIONS, "TRAINING_EVENT_WEIGHTS": {"purchase": 1.0, "view": 0.0}}
    now = timezone.now()
    add_event("v", "A", now, "view")
    add_event("v", "B", now, "purchase", quantity=3)  # 1 + ln 3
    log = data.interaction_log()
    assert log.items.tolist() == ["B"]
    assert log.to_interactions(data.weighting()).matrix.toarray()[0, 0] == pytest.approx(1 + np.log(3))


def test_catalogue_reads_products_through_the_adapter(catalogue):
    items = {item.item_id: item for item in data.catalogue()}
    assert len(items) == 8
    assert items["L1"].category == "Lights"
    assert items["L1"].title == "lights L1"
    assert items["L1"].price == 2.5


@pytest.mark.django_db
@pytest.mark.parametrize("chunk_size", [3, 5000])
def test_the_chunked_loader_builds_exactly_the_matrix_of_the_row_by_row_path(monkeypatch, chunk_size):
    from promotions.evaluation import temporal_split
    from promotions.recommenders import Interactions, Weighting

    monkeypatch.setattr(data, "CHUNK_SIZE", chunk_size)  # rows cross chunk boundaries with 3
    alice = get_user_model().objects.create_user("alice")
    Visitor.objects.create(key="phone", user=alice)
    start = timezone.now() - timedelta(days=30)
    kinds = ["view", "add_to_cart", "purchase", "rating", "view"]
    for n in range(40):
        visitor = ["phone", "laptop", "v-z", "v-a", "v-m"][n % 5]
        quantity = None if n % 4 else n % 7
        add_event(visitor, f"SKU-{(n * 7) % 11}", start + timedelta(hours=17 * n), kinds[n % 5], quantity=quantity)
    rows = list(data.interaction_rows())
    log = data.interaction_log()
    assert len(log) == len(rows) == 40
    assert log.users.tolist() == [row[0] for row in rows] and log.items.tolist() == [row[1] for row in rows]
    for weighting in (data.weighting(), Weighting(half_life_days=5.0, quantity="linear")):
        old, new = Interactions.from_rows(rows, weighting), log.to_interactions(weighting)
        assert new.user_ids.tolist() == old.user_ids.tolist() and new.item_ids.tolist() == old.item_ids.tolist()
        assert (new.matrix != old.matrix).nnz == 0 and new.matrix.nnz == old.matrix.nnz
        assert (new.last_seen != old.last_seen).nnz == 0
    # The validation windows are slices of the one log, not copies.
    split = temporal_split(log, 0.7)
    assert np.shares_memory(split.train.user_codes, log.user_codes)
    assert np.shares_memory(split.test.timestamps, log.timestamps)
    assert len(split.train) + len(split.test) == 40
