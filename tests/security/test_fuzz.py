"""Fuzzing the beacon: the serializer and the endpoint with hypothesis, the endpoint's published
OpenAPI schema with schemathesis (the key-authenticated endpoints: tests/api/test_api_fuzz.py).
At least 500 examples each: never a 500, nothing stored from a refused request,
and whatever is stored belongs to the cookie's visitor."""

from __future__ import annotations

import json
import uuid

import pytest
from django.core.wsgi import get_wsgi_application
from django.test import RequestFactory
from drf_spectacular.settings import patched_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from promotions.api.serializers import BEACON_EVENT_TYPES, BeaconBatchSerializer, idempotency_key
from promotions.tracking.models import Event
from tests.api.conftest import ORIGIN, URL, beacon_client, signed_visitor_cookie
from tests.tracking.conftest import BROWSER

EXAMPLES = 500
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,  # no example database written into the working tree
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
# Every answer the endpoint may give a well-identified, unthrottled browser.
EXPECTED = {202, 400, 413, 415}

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=16,
)
# Near-valid events: each field is mostly right and sometimes wrong, so validation is reached deeply.
tokens = st.text(alphabet="abcXYZ019._:-/ <é\x00", max_size=70)
event_fields = {
    "type": st.sampled_from([str(kind) for kind in BEACON_EVENT_TYPES]) | st.text(max_size=20),
    "id": st.uuids().map(str) | st.uuids().map(lambda value: value.hex) | st.text(max_size=40) | st.integers(),
}
optional_fields = {
    "product": st.text(max_size=80) | st.integers() | st.none() | st.lists(st.integers(), max_size=2),
    "promotion": st.integers(min_value=-5, max_value=2**64) | st.text(max_size=5) | st.booleans() | st.none(),
    "recommendation_id": tokens,
    "slot": tokens,
    "dwell_seconds": st.floats(min_value=-10, max_value=10**6) | st.integers() | st.text(max_size=5),
    "page": st.text(alphabet="/ab?#=&.%", max_size=210),
    "visitor": st.uuids().map(lambda value: value.hex),
}
events = st.fixed_dictionaries(event_fields, optional=optional_fields)
batches = st.one_of(
    st.fixed_dictionaries({"events": st.lists(events, max_size=6)}),
    # Around the batch limit (50): one event repeated keeps generation cheap.
    st.builds(lambda count, event: {"events": [event] * count}, st.integers(48, 53), events),
    st.fixed_dictionaries({"events": st.lists(events, max_size=2)}, optional={"visitor": st.text(max_size=32)}),
    json_values,
)


def stored_for(visitor_id: str) -> int:
    return Event.objects.filter(visitor_id=visitor_id).count()


@pytest.mark.django_db
@FUZZ
@given(payload=batches)
def test_serializer_validates_anything_without_raising(payload):
    request = RequestFactory().post(URL)
    serializer = BeaconBatchSerializer(data=payload, context={"request": request})
    if serializer.is_valid():
        accepted = serializer.validated_data["events"]
        assert 1 <= len(accepted) <= 50
        for event in accepted:
            assert event["type"] in BEACON_EVENT_TYPES and isinstance(event["id"], uuid.UUID)
            assert set(event) <= set(event_fields) | (set(optional_fields) - {"visitor"})
            assert "?" not in event.get("page", "") and "#" not in event.get("page", "")
    else:
        assert serializer.errors  # a refusal always says why


bodies = st.one_of(
    batches.map(lambda payload: json.dumps(payload).encode()),
    st.binary(max_size=300),
    st.text(max_size=300).map(str.encode),
    st.integers(min_value=1, max_value=3000).map(lambda depth: ("[" * depth + "]" * depth).encode()),
)
content_types = st.sampled_from(
    ["application/json", "text/plain", "text/plain;charset=UTF-8", "application/x-www-form-urlencoded",
     "multipart/form-data; boundary=x", "application/xml", "application/json; charset=latin-1", ""]
)  # fmt: skip


@pytest.mark.django_db
@FUZZ
@given(body=bodies, content_type=content_types)
def test_endpoint_never_fails_and_stores_only_accepted_batches(unthrottled, body, content_type):
    visitor_id = uuid.uuid4().hex
    client = beacon_client(visitor_id)
    before = Event.objects.count()
    # generic() sends the bytes as they are (post() would re-encode them for a charset parameter).
    response = client.generic("POST", URL, body, content_type=content_type, headers={"Origin": ORIGIN})
    assert response.status_code in EXPECTED, (response.status_code, response.content[:300])
    added = Event.objects.count() - before
    if response.status_code == 202:
        accepted = response.json()["accepted"]
        # Duplicate client ids inside one batch are stored once; all under the cookie's visitor.
        assert 1 <= added <= accepted and stored_for(visitor_id) == added
    else:
        assert added == 0


def openapi_schema(prefix: str = "/promotions/api/") -> dict:
    """The published schema (``GET /promotions/api/schema/``), with only the paths under ``prefix``
    that are not the key-authenticated ``v1/`` ones."""
    from promotions.api.schema import SETTINGS, AppSchemaGenerator

    with patched_settings(SETTINGS):
        schema = AppSchemaGenerator().get_schema(request=None, public=True)
    schema["paths"] = {
        path: item for path, item in schema["paths"].items() if path.startswith(prefix) and "/v1/" not in path
    }
    return schema


def test_the_schema_describes_the_beacon_endpoint():
    schema = openapi_schema()
    assert set(schema["paths"][URL]) == {"post"}


try:
    import schemathesis
except ImportError:  # pragma: no cover - schemathesis is in requirements-dev.txt
    schemathesis = None

if schemathesis is not None:
    fuzzed_schema = openapi_schema()
    # Batches of up to 2 events: generating 50 schema-valid events per example costs far more than
    # sending them, and the limit of 50 is fuzzed above (test_endpoint_never_fails...).
    fuzzed_schema["components"]["schemas"]["BeaconBatchRequest"]["properties"]["events"]["maxItems"] = 2
    # The fuzzing phase only: the coverage phase's few hundred boundary cases would double the run time.
    config = schemathesis.config.SchemathesisConfig.from_dict({"phases": {"coverage": {"enabled": False}}})
    api_schema = schemathesis.openapi.from_dict(fuzzed_schema, config=config)
    api_schema.app = get_wsgi_application()
    VISITOR = uuid.uuid4().hex

    @pytest.mark.django_db(transaction=True)  # requests run through the real WSGI handler
    @api_schema.parametrize()
    @FUZZ
    def test_openapi_schema_fuzz(case, unthrottled):
        before = Event.objects.count()
        response = case.call(
            headers={"Origin": "http://localhost", "User-Agent": BROWSER},
            cookies={"shop_consent": "yes", "promotions_vid": signed_visitor_cookie(VISITOR)},
        )
        assert response.status_code < 500, (case.method, case.path, response.status_code, response.text[:300])
        if case.path != URL:
            return  # the read-only endpoints: no server error is the property
        if case.method.upper() != "POST":
            # OPTIONS describes the endpoint (DRF's metadata); every other method is refused.
            assert response.status_code == (200 if case.method.upper() == "OPTIONS" else 405)
            return
        assert response.status_code in EXPECTED, (response.status_code, response.text[:300])
        added = Event.objects.count() - before
        if response.status_code == 202:
            # Schemathesis may send the same event id again: stored once, under the cookie's visitor.
            sent = {idempotency_key(VISITOR, uuid.UUID(str(event["id"])).hex) for event in case.body["events"]}
            assert Event.objects.filter(idempotency_key__in=sent).count() == len(sent)
            assert added <= response.json()["accepted"]
            assert Event.objects.exclude(visitor_id=VISITOR).count() == 0
        else:
            assert added == 0
