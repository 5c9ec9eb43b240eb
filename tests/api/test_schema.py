"""The published OpenAPI schema: every endpoint, its auth scheme, bodies, answers and limits; valid,
without a generator warning; its Swagger UI and Redoc pages for staff only, served without a CDN."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from drf_spectacular.drainage import GENERATOR_STATS
from openapi_spec_validator import validate

from promotions.api.bodies import MAX_EVENTS
from promotions.conf import app_settings

from .conftest import URL

SCHEMA = "/promotions/api/schema/"
KEY_PATHS = {
    "/promotions/api/v1/recommendations/": "get",
    "/promotions/api/v1/similar/": "get",
    "/promotions/api/v1/promotions/": "get",
    "/promotions/api/v1/events/": "post",
    "/promotions/api/v1/baskets/price/": "post",
    "/promotions/api/v1/baskets/redeem/": "post",
    "/promotions/api/v1/baskets/refund/": "post",
}
BROWSER_PATHS = {URL: "post", "/promotions/api/promotions/": "get", "/promotions/api/recommendations/": "get"}


def published() -> dict:
    GENERATOR_STATS.reset()
    response = Client().get(SCHEMA)
    assert response.status_code == 200 and response["Content-Type"].startswith("application/vnd.oai.openapi+json")
    assert not GENERATOR_STATS, "the schema generator warned"  # e.g. a duplicated operationId
    return response.json()


def test_the_published_schema_is_valid_openapi_without_warnings():
    schema = published()
    validate(schema)
    assert schema["openapi"].startswith("3.")
    assert {path: set(item) for path, item in schema["paths"].items()} == {
        path: {method} for path, method in {**KEY_PATHS, **BROWSER_PATHS}.items()
    }
    operations = [operation for item in schema["paths"].values() for operation in item.values()]
    ids = [operation["operationId"] for operation in operations]
    assert len(ids) == len(set(ids))
    assert "\\z" not in str(schema) and "\\Z" not in str(schema)  # ECMA-262 patterns only


def test_key_endpoints_document_the_scheme_errors_and_rate_limit():
    schema = published()
    assert schema["components"]["securitySchemes"]["apiKey"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "pk_<prefix>.<secret>",
        "description": "An API key created in the admin (shown once).",
    }
    assert schema["components"]["securitySchemes"]["visitorCookie"]["name"] == app_settings.VISITOR_COOKIE_NAME
    for path, method in KEY_PATHS.items():
        operation = schema["paths"][path][method]
        assert operation["security"] == [{"apiKey": []}], path
        assert {"400", "401", "403", "429"} <= set(operation["responses"]), path
        assert operation["responses"]["401"]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/Error"
        }
    assert "Retry-After" in schema["info"]["description"] and "rate limit" in schema["info"]["description"]
    events = schema["components"]["schemas"]["EventBatchSchemaRequest"]["properties"]["events"]
    assert (events["minItems"], events["maxItems"]) == (1, MAX_EVENTS)
    assert schema["paths"]["/promotions/api/v1/baskets/redeem/"]["post"]["responses"]["409"]


def test_the_beacon_keeps_its_described_fields_limits_and_answers():
    schema = published()
    operation = schema["paths"][URL]["post"]
    assert set(operation["requestBody"]["content"]) == {"application/json", "text/plain"}
    assert operation["security"] == [{"visitorCookie": []}]
    assert set(operation["responses"]) == {"202", "400", "403", "413", "415", "429"}
    batch = schema["components"]["schemas"]["BeaconBatchRequest"]
    assert batch["required"] == ["events"]
    events = batch["properties"]["events"]
    assert events["type"] == "array" and events["maxItems"] == app_settings.BEACON_MAX_EVENTS
    event = schema["components"]["schemas"]["BeaconEventRequest"]
    assert set(event["properties"]) == {
        "type", "id", "product", "promotion", "recommendation_id", "slot", "dwell_seconds", "page",
    }  # fmt: skip
    assert sorted(event["required"]) == ["id", "type"]
    kinds = schema["components"]["schemas"][event["properties"]["type"]["$ref"].rsplit("/", 1)[1]]["enum"]
    assert kinds == [
        "promotion_impression", "promotion_click", "recommendation_impression", "recommendation_click", "dwell",
    ]  # fmt: skip
    assert event["properties"]["id"]["format"] == "uuid"


@pytest.mark.django_db
@pytest.mark.parametrize("page", ["swagger/", "redoc/"])
def test_the_schema_pages_are_for_staff_and_use_no_cdn(page):
    assert Client().get(SCHEMA + page).status_code == 403
    customer = Client()
    customer.force_login(get_user_model().objects.create_user("cus", password="pw-123456789"))
    assert customer.get(SCHEMA + page).status_code == 403
    staff = Client()
    staff.force_login(get_user_model().objects.create_user("st", password="pw-123456789", is_staff=True))
    response = staff.get(SCHEMA + page)
    assert response.status_code == 200
    html = response.content.decode()
    assert SCHEMA in html
    scripts = re.findall(r'<script[^>]+src="([^"]+)"', html)
    assert scripts and all(src.startswith("/static/drf_spectacular_sidecar/") for src in scripts), scripts
    assert "cdn" not in html.lower() and "https://" not in " ".join(scripts)


@pytest.mark.django_db
def test_without_the_page_apps_the_pages_say_what_to_add(settings):
    settings.INSTALLED_APPS = [app for app in settings.INSTALLED_APPS if not app.startswith("drf_spectacular")]
    staff = Client()
    staff.force_login(get_user_model().objects.create_user("st", password="pw-123456789", is_staff=True))
    response = staff.get(SCHEMA + "swagger/")
    assert response.status_code == 404 and b"drf_spectacular_sidecar" in response.content
    assert Client().get(SCHEMA).status_code == 200  # the schema itself needs neither
