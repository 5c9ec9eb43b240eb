"""The headless example: the demo's key of limited scope, the static page that uses only the public API."""

import re
import stat
from pathlib import Path

import pytest
from django.test import Client

from promotions.api.keys import ApiKey, find_key
from shop_demo import headless
from tests.api.keyclient import KeyClient
from tests.serving.conftest import active_model, catalogue, fresh  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db
STATIC = Path(headless.__file__).parent / "static" / "shop_demo" / "headless"


@pytest.fixture(autouse=True)
def var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path


def test_the_demo_makes_one_key_of_limited_scope_and_keeps_it():
    text = headless.ensure_key()
    key = find_key(text)
    assert key.scopes == ["read", "baskets"] and key.rate == "120/min"
    assert stat.S_IMODE(headless.key_file().stat().st_mode) == 0o600
    assert headless.ensure_key() == text and ApiKey.objects.count() == 1
    key.revoke()  # revoked by staff: the next demo run makes a new one
    assert headless.ensure_key() != text and ApiKey.objects.filter(revoked_at__isnull=True).count() == 1


def test_the_page_carries_the_key_and_loads_nothing_from_elsewhere():
    text = headless.ensure_key()
    html = Client().get("/headless/").content.decode()
    assert f'<meta name="promotions-api-key" content="{text}">' in html
    sources = [src for src in re.findall(r'(?:src|href)="([^"]+)"', html) if src != "data:,"]  # no favicon
    assert sources and all(source.startswith("/static/shop_demo/headless/") for source in sources)
    script = (STATIC / "headless.js").read_text()
    assert "http://" not in script and "https://" not in script and "import " not in script
    assert set(re.findall(r'"((?:recommendations|baskets)/[a-z/]*)', script)) == {"recommendations/", "baskets/price/"}


def test_what_the_page_calls_works_with_its_key_and_nothing_more(active_model):  # noqa: F811
    client = KeyClient(headless.ensure_key())
    recommendations = client.get("/promotions/api/v1/recommendations/", {"k": 6, "history": "L1,C2"})
    assert recommendations.status_code == 200 and recommendations.json()["results"]
    priced = client.post(
        "/promotions/api/v1/baskets/price/",
        {"visitor": "headless-example", "lines": [{"product": "L1", "quantity": 2}], "codes": []},
    )
    assert priced.status_code == 200 and priced.json()["total"] == "20.00"
    assert client.post("/promotions/api/v1/events/", {"events": []}).status_code == 403
