"""The beacon script is a static file of the app, loaded by the shop's pages (a browser test comes later)."""

from decimal import Decimal

import pytest
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.views import serve
from django.templatetags.static import static
from django.test import RequestFactory, override_settings
from django.urls import reverse

from shop_demo.models import Category, Product

from .conftest import URL

SCRIPT = "promotions/promotions.js"


def test_script_is_a_static_file_of_the_app():
    path = finders.find(SCRIPT)
    assert path and path.replace("\\", "/").endswith("promotions/static/" + SCRIPT)
    source = open(path, encoding="utf-8").read()
    assert "threshold: VISIBLE_RATIO" in source and "VISIBLE_RATIO = 0.5" in source
    assert "VISIBLE_MS = 1000" in source
    assert "navigator.sendBeacon" in source and 'type: "text/plain"' in source
    assert "keepalive: true" in source
    assert "crypto.randomUUID" in source
    assert "visibilitychange" in source and "pagehide" in source
    assert "data-promotions-kind" in source and "data-promotions-product-page" in source


@override_settings(DEBUG=True)
def test_script_is_served_from_static():
    response = serve(RequestFactory().get(static(SCRIPT)), SCRIPT)
    assert response.status_code == 200
    assert response["Content-Type"] in {"text/javascript", "application/javascript"}
    assert b"sendBeacon" in b"".join(response.streaming_content)


@pytest.mark.django_db
def test_pages_load_the_script_only_for_visitors_who_may_be_tracked(client):
    category = Category.objects.create(name="Lights", slug="lights")
    Product.objects.create(stock_code="85123A", title="Heart holder", category=category, price=Decimal("2.55"))
    page = reverse("shop:product", args=["85123A"])
    tag = f'<script src="{static(SCRIPT)}" data-endpoint="{URL}" defer></script>'
    client.defaults["HTTP_USER_AGENT"] = "Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0"
    assert tag not in client.get(page).content.decode()  # no consent yet: no beacons
    client.cookies["shop_consent"] = "yes"
    html = client.get(page).content.decode()
    assert tag in html
    assert 'data-promotions-product-page="85123A"' in html
    assert tag not in client.get(page, HTTP_DNT="1").content.decode()
