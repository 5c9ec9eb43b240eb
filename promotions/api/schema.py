"""The published OpenAPI 3 description of the app's HTTP API (drf-spectacular), and its pages.

``GET /promotions/api/schema/`` serves it to anyone (it holds no data); the Swagger UI and Redoc
pages (``schema/swagger/``, ``schema/redoc/``) are for staff, with their files served from the
shop's static files (``drf_spectacular_sidecar``: no CDN). The schema describes only this app's
endpoints, whatever else the shop's URLconf holds, under the prefix the app is included at.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.http import HttpResponseNotFound
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.renderers import (
    OpenApiJsonRenderer,
    OpenApiJsonRenderer2,
    OpenApiYamlRenderer,
    OpenApiYamlRenderer2,
)
from drf_spectacular.settings import patched_settings
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView
from rest_framework import serializers
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import AllowAny, IsAdminUser

from ..conf import app_settings

DESCRIPTION = """The promotions app's HTTP API.

* **Server-to-server endpoints** (`/api/v1/...`) authenticate with an API key created in the
  admin: `Authorization: Bearer pk_<prefix>.<secret>`. Each key holds scopes (`read`: recommendations,
  similar items and promotions; `events`: server-side events; `baskets`: pricing baskets;
  `orders`: redeeming and refunding orders) and its own rate limit (requests per period, a sliding window). No key or an
  unknown, wrong or revoked one: **401**; a key without the endpoint's scope: **403**; over the
  key's rate: **429** with `Retry-After` (seconds).
* **Browser endpoints** (`/api/events/`, `/api/promotions/`, `/api/recommendations/`) serve the
  visitor whose signed cookie comes with the request; the beacon also checks the Origin.

Errors are JSON: `{"detail": "message"}`, or for invalid input (400) the field errors
`{"field": ["message", ...]}` (nested like the body). Messages follow `Accept-Language`.
"""

SETTINGS = {
    "TITLE": "promotions API",
    "DESCRIPTION": DESCRIPTION,
    "VERSION": "1",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_GENERATE_CHOICE_DESCRIPTION": False,
    "TAGS": [
        {"name": "read", "description": "Recommendations, similar items and promotions by person (scope read)."},
        {"name": "events", "description": "Server-side events (scope events)."},
        {"name": "baskets", "description": "Basket pricing (scope baskets), redemption and refund (scope orders)."},
        {"name": "browser", "description": "Endpoints the shop's pages call with the visitor's cookie."},
    ],
}

DETAIL = inline_serializer("Error", {"detail": serializers.CharField()})
FIELD_ERRORS = {
    "type": "object",
    "description": "Field errors: {field: [messages]} (nested like the body), or {detail: message}.",
    "additionalProperties": True,
}


def errors(*codes: int, **described: str) -> dict[int, OpenApiResponse]:
    """The error answers of an endpoint, by status code."""
    text = {
        401: _("No API key, or an unknown, wrong or revoked one. Nothing is read or stored."),
        403: _("The API key does not hold this endpoint's scope. Nothing is read or stored."),
        413: _("The body is larger than the endpoint accepts. Nothing is stored."),
        415: _("The body is not JSON."),
        429: _("Over the key's rate limit: retry after the Retry-After header's seconds. Nothing is stored."),
    }
    answers = {}
    for code in codes:
        description = description_400(described) if code == 400 else str(described.get(f"e{code}", text[code]))
        answers[(code, "application/json")] = OpenApiResponse(
            FIELD_ERRORS if code == 400 else DETAIL, description=description
        )
    if 400 in codes:
        # ``ops.middleware.RejectNulMiddleware`` answers before any view, in plain text.
        answers[(400, "text/plain")] = OpenApiResponse({"type": "string"}, description=description_400(described))
    return answers


def description_400(described: dict[str, str]) -> str:
    return (
        str(described.get("e400", _("Invalid input: the field errors. Nothing is stored.")))
        + " "
        + str(_("A NUL character in the address is refused before any view, with a plain-text message."))
    )


KEY_ERRORS = (400, 401, 403, 429)


class ApiSchema(AutoSchema):
    """drf-spectacular's inspection, with JSON Schema (ECMA-262) patterns: Python's ``\\Z`` end
    anchor means what ``$`` means there, and tools reject ``\\Z``."""

    def _insert_field_validators(self, field: Any, schema: dict[str, Any]) -> None:
        super()._insert_field_validators(field, schema)
        if "pattern" in schema:
            schema["pattern"] = schema["pattern"].replace("\\z", "$").replace("\\Z", "$")

    def _map_serializer_field(self, field: Any, direction: str, bypass_extensions: bool = False) -> Any:
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        # A nested list's length bounds (a batch's limit) belong in the contract; DRF keeps them
        # on the ListSerializer, which the inspection leaves out.
        if isinstance(field, serializers.ListSerializer) and isinstance(schema, dict):
            if field.max_length is not None:
                schema["maxItems"] = field.max_length
            if not field.allow_empty:
                schema["minItems"] = max(schema.get("minItems", 0), 1)
        return schema

    def get_tags(self) -> list[str]:
        return [getattr(self.view, "schema_tag", "browser")]


def documented(**kwargs: Any) -> Any:
    """``extend_schema`` based on ``ApiSchema`` rather than the shop's ``DEFAULT_SCHEMA_CLASS``
    (which may be DRF's own, and is only read when the decorator runs)."""

    def decorate(method: Any) -> Any:
        method.schema = ApiSchema
        return extend_schema(**kwargs)(method)

    return decorate


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "promotions.api.authentication.ApiKeyAuthentication"
    name = "apiKey"

    def get_security_definition(self, auto_schema: AutoSchema) -> dict[str, Any]:
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "pk_<prefix>.<secret>",
            "description": "An API key created in the admin (shown once).",
        }


class VisitorCookieScheme(OpenApiAuthenticationExtension):
    target_class = "promotions.api.authentication.ShopSessionUser"
    name = "visitorCookie"

    def get_security_definition(self, auto_schema: AutoSchema) -> dict[str, Any]:
        return {
            "type": "apiKey",
            "in": "cookie",
            "name": app_settings.VISITOR_COOKIE_NAME,
            "description": "The signed visitor cookie the tracking middleware sets.",
        }


class AppSchemaGenerator(SchemaGenerator):
    """Only the endpoints of this app (``promotions.api``), at the paths the shop mounted them."""

    def _initialise_endpoints(self) -> None:
        super()._initialise_endpoints()
        self.endpoints = [
            endpoint
            for endpoint in self.endpoints
            if getattr(endpoint[3], "cls", None) is not None
            and endpoint[3].cls.__module__.startswith("promotions.api.")
            and isinstance(endpoint[3].cls.schema, ApiSchema)
        ]


class SchemaView(SpectacularAPIView):
    """``GET schema/``: the OpenAPI document (JSON by default, YAML with ``?format=yaml``)."""

    generator_class = AppSchemaGenerator
    renderer_classes = [OpenApiJsonRenderer, OpenApiJsonRenderer2, OpenApiYamlRenderer, OpenApiYamlRenderer2]
    custom_settings = SETTINGS
    serve_public = True
    # Not an endpoint of the document itself: without this, a project whose DEFAULT_SCHEMA_CLASS is
    # DRF's own would see drf-spectacular's deploy check (E001) fail on this view.
    schema = None
    authentication_classes: list = []
    permission_classes = [AllowAny]
    url_name = "promotions:schema"


class StaffOnly:
    schema = None  # pages about the document, not in it (see SchemaView)
    authentication_classes = [SessionAuthentication]
    permission_classes = [IsAdminUser]
    url_name = "promotions:schema"

    def get(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        if not (apps.is_installed("drf_spectacular") and apps.is_installed("drf_spectacular_sidecar")):
            # Their templates and files come from these apps; without them, say so rather than fail.
            message = _("Add 'drf_spectacular' and 'drf_spectacular_sidecar' to INSTALLED_APPS for this page.")
            return HttpResponseNotFound(message, content_type="text/plain; charset=utf-8")
        with patched_settings(SETTINGS):
            return super().get(request, *args, **kwargs)


class SwaggerView(StaffOnly, SpectacularSwaggerView):
    title = SETTINGS["TITLE"]


class RedocView(StaffOnly, SpectacularRedocView):
    title = SETTINGS["TITLE"]
