"""docs/api.md has a curl example for every endpoint of the published schema, and names no other."""

import re
from pathlib import Path

from django.test import Client

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "api.md"


def test_every_endpoint_has_a_curl_example_and_every_example_an_endpoint():
    schema = Client().get("/promotions/api/schema/").json()
    text = GUIDE.read_text()
    commands = re.findall(r"^curl .*?(?=^\S|^```)", text, flags=re.MULTILINE | re.DOTALL)
    paths = {re.sub(r"\?.*", "", url) for url in re.findall(r'"\$SHOP(/[^"]*)"', "".join(commands))}
    assert set(schema["paths"]) | {"/promotions/api/schema/"} == paths
