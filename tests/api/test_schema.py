"""The endpoint's payload is introspectable by DRF's OpenAPI schema."""

import warnings

from promotions.api.views import EventBeaconView
from promotions.conf import app_settings

from .conftest import URL


def request_body_schema() -> dict:
    view = EventBeaconView()
    view.request, view.kwargs, view.format_kwarg = None, {}, None
    schema = view.schema
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a serializer DRF cannot introspect only warns
        body = schema.get_request_body(URL, "POST")
        components = schema.get_components(URL, "POST")
    assert set(body["content"]) == {"application/json", "text/plain"}
    return components, schema.get_responses(URL, "POST")


def test_schema_describes_every_field_limit_and_answer():
    components, responses = request_body_schema()
    batch = components["BeaconBatch"]
    assert batch["required"] == ["events"]
    events = batch["properties"]["events"]
    assert events["type"] == "array" and events["maxItems"] == app_settings.BEACON_MAX_EVENTS
    event = events["items"]
    assert set(event["properties"]) == {
        "type", "id", "product", "promotion", "recommendation_id", "slot", "dwell_seconds", "page",
    }  # fmt: skip
    assert event["required"] == ["type", "id"]
    assert event["properties"]["type"]["enum"] == [
        "promotion_impression", "promotion_click", "recommendation_impression", "recommendation_click", "dwell",
    ]  # fmt: skip
    assert event["properties"]["id"]["format"] == "uuid"
    assert set(responses) == {"202", "400", "403", "413", "415", "429"}
