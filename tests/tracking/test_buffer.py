"""The Redis event buffer loses and duplicates nothing; without Redis events go to the database."""

import uuid
from datetime import timedelta

import pytest
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from promotions.conf import app_settings
from promotions.tasks import flush_events, purge_expired_events
from promotions.tracking import buffer
from promotions.tracking.models import Event
from shop_demo import settings as shop_settings


def make(n, **extra):
    now = timezone.now()
    return [
        {
            "event_type": "view",
            "visitor_id": "v" * 32,
            "item_id": f"item{i}",
            "occurred_at": now,
            "idempotency_key": uuid.uuid4().hex,
            **extra,
        }
        for i in range(n)
    ]


@pytest.mark.django_db
def test_page_events_wait_in_redis_until_flushed(redis_buffer, browser, product):
    browser.get(reverse("shop:product", args=[product.stock_code]))
    assert Event.objects.count() == 0 and buffer.backlog() == 1
    assert flush_events() == 1
    assert Event.objects.get().item_id == product.stock_code
    assert buffer.backlog() == 0


@pytest.mark.django_db
def test_flush_killed_between_read_and_insert_loses_nothing(redis_buffer):
    buffer.write(make(20))
    stream = app_settings.EVENT_STREAM
    buffer._ensure_group(redis_buffer, stream)
    # A worker reads a batch and dies before inserting it: the entries stay pending.
    redis_buffer.xreadgroup(buffer.GROUP, "dead-worker", {stream: ">"}, count=7)
    assert buffer.flush(claim_idle_ms=0) == 20
    assert Event.objects.count() == 20
    assert redis_buffer.xpending(stream, buffer.GROUP)["pending"] == 0


@pytest.mark.django_db
def test_flush_killed_between_insert_and_ack_duplicates_nothing(redis_buffer):
    events = make(5)
    buffer.write(events)
    stream = app_settings.EVENT_STREAM
    buffer._ensure_group(redis_buffer, stream)
    entries = redis_buffer.xreadgroup(buffer.GROUP, "dead-worker", {stream: ">"}, count=5)[0][1]
    buffer.insert_rows([buffer.decode_entry(fields) for _, fields in entries])  # inserted, then the worker died
    assert buffer.flush(claim_idle_ms=0) == 5
    assert Event.objects.count() == 5
    assert set(Event.objects.values_list("idempotency_key", flat=True)) == {e["idempotency_key"] for e in events}


@pytest.mark.django_db
def test_redis_down_events_go_to_the_database(browser, product):
    # Nothing listens on port 1: the page still renders and its event lands in the database.
    with override_settings(PROMOTIONS={**shop_settings.PROMOTIONS, "REDIS_URL": "redis://127.0.0.1:1/0"}):
        buffer._redis_down_until = 0.0
        response = browser.get(reverse("shop:product", args=[product.stock_code]))
    assert response.status_code == 200
    assert Event.objects.filter(item_id=product.stock_code).count() == 1


@pytest.mark.django_db
def test_without_redis_events_are_written_once_per_request(browser, product):
    browser.get(reverse("shop:product", args=[product.stock_code]))
    assert Event.objects.count() == 1
    assert buffer.backlog() is None and flush_events() == 0


@pytest.mark.django_db
def test_retention_purge_deletes_only_expired_events():
    old, recent = make(3), make(2)
    for event in old:
        event["occurred_at"] = timezone.now() - timedelta(days=app_settings.RETENTION_DAYS + 1)
    buffer.insert(old + recent)
    assert purge_expired_events() == 3
    assert Event.objects.count() == 2


@pytest.mark.django_db
def test_inserts_inside_one_transaction_do_not_replay_each_other():
    first, second = make(2), make(1)
    buffer.insert(first)
    Event.objects.filter(idempotency_key=first[0]["idempotency_key"]).delete()
    buffer.insert(second)  # same (test) transaction: nothing of the first batch comes back
    assert set(Event.objects.values_list("idempotency_key", flat=True)) == {
        first[1]["idempotency_key"],
        second[0]["idempotency_key"],
    }


@pytest.mark.django_db
def test_a_recreated_product_is_linked_by_its_new_primary_key(product):
    buffer.insert(make(1, item_id=product.stock_code))
    old_pk = product.pk
    product.delete()
    product.pk = None
    product.save()
    assert product.pk != old_pk
    buffer.insert(make(1, item_id=product.stock_code))
    assert Event.objects.order_by("pk").last().product_id == product.pk
