"""Fuzzing the capture path with hypothesis: URLs, query strings, headers and beacon payloads
through the real middleware and beacon endpoint, then a real flush on PostgreSQL.

Invariants: no request answers 500; the flush always runs through; everything captured is
stored (capture bounds every field, so nothing even reaches the dead letters); a good event
sent after the fuzzed requests is stored. PostgreSQL only (its text and jsonb refuse NUL and
lone surrogates, which SQLite stores): the suite's PostgreSQL pass runs it.
"""

from __future__ import annotations

import json
import os
import uuid
from urllib.parse import quote, quote_from_bytes

import pytest
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from promotions.tasks import flush_events
from promotions.tracking import buffer
from promotions.tracking.models import DeadLetterEvent, Event
from tests.api.conftest import ORIGIN, URL, beacon_client
from tests.security.conftest import unthrottled  # noqa: F401 - the fixture: every beacon reaches validation
from tests.tracking.conftest import BROWSER

FUZZ = settings(
    # About 20 s on PostgreSQL (CI runs the suite twice on 2 cores); PROMOTIONS_FUZZ_EXAMPLES for a longer run.
    max_examples=int(os.environ.get("PROMOTIONS_FUZZ_EXAMPLES", "100")),
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)

# Text with what breaks storage: NUL, lone surrogates, other controls, non-BMP characters, and long runs.
nasty_text = st.text(
    alphabet=st.characters(codec=None, exclude_categories=()) | st.sampled_from(["\x00", "\ud800", "\udfff", "a"]),
    max_size=300,
)
raw_bytes = st.binary(max_size=300) | st.sampled_from([b"\x00", b"\xed\xa0\x80", b"\xff", b"a" * 300 + b"\x00"])
# Path segments as sent on the wire: percent-encoded bytes of anything.
segments = raw_bytes.map(lambda data: quote_from_bytes(data, safe=""))
paths = st.one_of(
    st.just("/"),
    st.builds(lambda s: f"/product/{s}/", segments),
    st.builds(lambda s: f"/category/{s}/", segments),
    st.just("/search/"),
    st.builds(lambda s: f"/{s}", segments),
)
query_strings = st.one_of(
    st.builds(lambda value: "q=" + quote_from_bytes(value, safe=""), raw_bytes),
    st.builds(lambda value: "q=" + quote(value.encode("utf-8", "surrogatepass"), safe=""), nasty_text),
    st.builds(lambda a, b: quote_from_bytes(a, safe="=&") + "&q=" + quote_from_bytes(b, safe=""), raw_bytes, raw_bytes),
)
# Header values travel as latin-1 in WSGI: any byte but the line breaks a server would refuse.
latin_1 = st.characters(min_codepoint=0, max_codepoint=255, exclude_characters="\r\n")
header_text = st.text(alphabet=latin_1, max_size=300)
headers = st.fixed_dictionaries(
    {},
    optional={
        "HTTP_REFERER": st.one_of(header_text, st.builds(lambda p: "http://testserver" + p, header_text)),
        "HTTP_ACCEPT_LANGUAGE": header_text,
        "HTTP_USER_AGENT": st.builds(lambda extra: BROWSER + extra, header_text),
        "HTTP_X_FORWARDED_FOR": header_text,
        "HTTP_CF_IPCOUNTRY": header_text,
    },
)
beacon_events = st.fixed_dictionaries(
    {
        "type": st.sampled_from(["promotion_impression", "promotion_click", "recommendation_click", "dwell"]),
        "id": st.uuids().map(str),
    },
    optional={
        "product": nasty_text.map(lambda text: text[:64]) | st.just("85123A"),
        "promotion": st.integers(min_value=1, max_value=2**63 - 1),
        "slot": st.from_regex(r"[\w.:-]{1,64}", fullmatch=True),
        "recommendation_id": st.from_regex(r"[\w.:-]{1,64}", fullmatch=True),
        "dwell_seconds": st.floats(min_value=0, max_value=86400),
        "page": st.builds(lambda text: "/" + text, nasty_text.map(lambda text: text[:199])),
    },
)
beacon_bodies = st.lists(beacon_events, min_size=1, max_size=5).map(lambda events: {"events": events})


@pytest.fixture
def postgres_buffer(postgres_available, redis_buffer):
    if connection.vendor != "postgresql":
        pytest.skip("the capture fuzz runs in the PostgreSQL pass (DATABASE_URL=postgres://...)")
    return redis_buffer


@pytest.mark.django_db
@pytest.mark.usefixtures("unthrottled")
@FUZZ
@given(path=paths, query=query_strings, extra=headers, body=beacon_bodies)
def test_nothing_sent_stops_the_flush_or_loses_a_good_event(postgres_buffer, product, path, query, extra, body):
    client = beacon_client(uuid.uuid4().hex)
    page = client.get(path, QUERY_STRING=query, **extra)
    assert page.status_code != 500, (path, query, page.status_code)
    sent = client.post(URL, json.dumps(body), content_type="application/json", HTTP_ORIGIN=ORIGIN, **extra)
    # 403: a fuzzed user agent that reads as a bot is not tracked.
    assert sent.status_code in {202, 400, 403}, (body, sent.status_code, sent.content[:300])
    # A good event behind whatever came before, from a plain browser.
    good_visitor = uuid.uuid4().hex
    assert beacon_client(good_visitor).get(f"/product/{product.stock_code}/").status_code == 200
    waiting = buffer.backlog()
    stored_before, dead_before = Event.objects.count(), DeadLetterEvent.objects.count()
    assert flush_events() == waiting  # runs through, and stores every event captured
    assert Event.objects.count() - stored_before == waiting and DeadLetterEvent.objects.count() == dead_before
    assert buffer.backlog() == 0
    assert Event.objects.filter(visitor_id=good_visitor, event_type="view", item_id=product.stock_code).exists()
