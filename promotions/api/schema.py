"""The beacon endpoint's OpenAPI description: its batch bounds and its answers, which DRF cannot infer."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from rest_framework import serializers
from rest_framework.schemas.openapi import AutoSchema


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": {"type": "object"}}}}


class BeaconSchema(AutoSchema):
    def map_field(self, field: serializers.Field) -> dict[str, Any]:
        schema = super().map_field(field)
        # DRF leaves a nested list's length bounds out; the batch limit belongs in the contract.
        if isinstance(field, serializers.ListSerializer):
            if field.max_length is not None:
                schema["maxItems"] = field.max_length
            if not field.allow_empty:
                schema["minItems"] = 1
        return schema

    def map_field_validators(self, field: serializers.Field, schema: dict[str, Any]) -> None:
        super().map_field_validators(field, schema)
        # JSON Schema patterns are ECMA-262, which has no \z: its $ (no multiline flag) means the same.
        if "pattern" in schema:
            schema["pattern"] = schema["pattern"].replace("\\z", "$")

    def get_responses(self, path: str, method: str) -> dict[str, Any]:
        accepted = {"type": "object", "properties": {"accepted": {"type": "integer", "minimum": 1}}}
        return {
            "202": {
                "description": _("Accepted: every event of the batch is stored (a re-sent event only once)."),
                "content": {"application/json": {"schema": accepted}},
            },
            "400": _error(_("Invalid batch, with field errors; nothing is stored.")),
            "403": _error(_("No valid visitor cookie, tracking not allowed, or a foreign Origin/Referer.")),
            "413": _error(_("The body is larger than PROMOTIONS['BEACON_MAX_BYTES']; nothing is stored.")),
            "415": _error(_("The body is neither application/json nor text/plain.")),
            "429": _error(_("Too many requests from this visitor; retry after the Retry-After header.")),
        }
