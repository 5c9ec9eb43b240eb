"""Schemathesis against the published schema's key-authenticated endpoints, with a key holding every
scope, a catalogue and a trained model: at least 200 generated requests per endpoint, never a 5xx,
and every answer within the schema (status code, content type, body)."""

from __future__ import annotations

import os

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from drf_spectacular.settings import patched_settings
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from promotions.api.schema import SETTINGS, AppSchemaGenerator
from tests.serving.conftest import active_model, catalogue, fresh  # noqa: F401 - fixtures

from .keyclient import issue

EXAMPLES = int(os.environ.get("PROMOTIONS_API_FUZZ_EXAMPLES", "200"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def key_schema() -> dict:
    with patched_settings(SETTINGS):
        schema = AppSchemaGenerator().get_schema(request=None, public=True)
    schema["paths"] = {path: item for path, item in schema["paths"].items() if "/api/v1/" in path}
    return schema


# The fuzzing phase only: the coverage phase's boundary cases would multiply the run time, and the
# bounds are tested directly (tests/api/test_headless.py).
config = schemathesis.config.SchemathesisConfig.from_dict({"phases": {"coverage": {"enabled": False}}})
api_schema = schemathesis.openapi.from_dict(key_schema(), config=config)
api_schema.app = get_wsgi_application()


@pytest.fixture
def key_text(active_model):  # noqa: F811 - a catalogue and a model, so reads reach serving
    return issue(rate="1000000/min")[1]


@pytest.mark.django_db(transaction=True)  # requests run through the real WSGI handler
@api_schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
def test_key_api_fuzz(case, key_text):
    # Schemathesis fills the bearer scheme with a made-up token: the real key replaces it.
    case.headers = {**(case.headers or {}), "Authorization": f"Bearer {key_text}"}
    response = case.call()
    case.validate_response(response, checks=CHECKS)
    assert response.status_code not in (401, 403, 429), response.text[:300]  # the key holds everything
