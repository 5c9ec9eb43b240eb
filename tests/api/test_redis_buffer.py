"""With the Redis buffer configured, beacon events wait in the stream and flush into the database once."""

import pytest
from django.test import override_settings

from promotions.tasks import flush_events
from promotions.tracking import buffer
from promotions.tracking.models import Event
from shop_demo import settings as shop_settings

from .conftest import make_events, post


@pytest.fixture
def redis_buffer(redis_url):
    with override_settings(PROMOTIONS={**shop_settings.PROMOTIONS, "REDIS_URL": redis_url}):
        buffer._redis_down_until = 0.0
        yield buffer.redis_client()


@pytest.mark.django_db
def test_beacon_events_land_in_the_stream_and_flush_once(redis_buffer, beacon, visitor_id):
    payload = {"events": make_events(3)}
    assert post(beacon, payload).status_code == 202
    assert Event.objects.count() == 0 and buffer.backlog() == 3
    assert flush_events() == 3
    assert Event.objects.filter(visitor_id=visitor_id, event_type="promotion_impression").count() == 3
    # The beacon re-sends the batch (say, after a lost response): buffered again, stored once.
    assert post(beacon, payload).status_code == 202
    assert flush_events() == 3
    assert Event.objects.count() == 3 and buffer.backlog() == 0


@pytest.mark.django_db
def test_a_refused_batch_never_reaches_the_stream(redis_buffer, beacon):
    assert post(beacon, {"events": [*make_events(2), *make_events(1, type="view")]}).status_code == 400
    assert buffer.backlog() == 0
