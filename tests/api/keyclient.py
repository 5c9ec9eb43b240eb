"""Calling the key-authenticated API as a shop's server would."""

from __future__ import annotations

import json

from django.test import Client

from promotions.api.keys import ApiKey

ALL_SCOPES = ["read", "events", "baskets", "orders"]


def issue(scopes=ALL_SCOPES, rate="100000/min", name="storefront") -> tuple[ApiKey, str]:
    return ApiKey.objects.issue(name, list(scopes), rate=rate)


class KeyClient:
    """A test client sending ``Authorization: Bearer <key>`` (or nothing, with ``text=None``)."""

    def __init__(self, text: str | None):
        self.client = Client()
        self.headers = {"Authorization": f"Bearer {text}"} if text else {}

    def get(self, path: str, params: dict | None = None, **headers):
        return self.client.get(path, params or {}, headers={**self.headers, **headers})

    def post(self, path: str, body, **headers):
        data = body if isinstance(body, str | bytes) else json.dumps(body)
        return self.client.post(path, data, content_type="application/json", headers={**self.headers, **headers})
