"""The template tags and the read API, through real requests to the demo shop."""

import json
from decimal import Decimal

import pytest
from django.conf import settings
from django.template import Context, Template
from django.test import override_settings
from django.urls import reverse

from promotions.offers.models import Promotion
from shop_demo.consent import ACCEPTED, COOKIE_NAME
from tests.offers.conftest import make_promotion, visitor_request

pytestmark = pytest.mark.django_db
NO_HOLDOUT = {**settings.PROMOTIONS, "HOLDOUT_SHARE": 0}


@pytest.fixture
def consenting_client(client):
    client.cookies[COOKIE_NAME] = ACCEPTED
    return client


@pytest.fixture
def lantern_offer(active_model):
    return make_promotion(
        name="Lanterns",
        message="20% off lanterns <b>now</b>",
        target_kind="categories",
        target_values=["Lanterns"],
        value=Decimal(20),
    )


def render(source: str, request) -> str:
    return Template("{% load promotions %}" + source).render(Context({"request": request}))


@override_settings(PROMOTIONS=NO_HOLDOUT)
def test_personalized_promotions_render_with_tracking_attributes_and_escaped_text(lantern_offer):
    html = render('{% personalized_promotions limit=2 slot="home" %}', visitor_request())
    assert f'data-promotions-promotion="{lantern_offer.pk}"' in html and 'data-promotions-slot="home"' in html
    assert "20% off lanterns &lt;b&gt;now&lt;/b&gt;" in html and "<b>now</b>" not in html
    assert 'data-promotions-kind="recommendation" data-promotions-product="L' in html


@override_settings(PROMOTIONS=NO_HOLDOUT)
def test_the_as_form_gives_objects_for_custom_markup(lantern_offer):
    html = render(
        '{% personalized_promotions limit=1 slot="home" as offers %}'
        "{% for o in offers %}[{{ o.id }}:{{ o.products|length }}]{% endfor %}"
        "{% recommended_products limit=3 as picks %}{{ picks|length }}",
        visitor_request(),
    )
    assert html == f"[{lantern_offer.pk}:4]3"


@override_settings(PROMOTIONS=NO_HOLDOUT)
def test_similar_products_and_promotion_for(lantern_offer):
    request = visitor_request()
    similar = render('{% similar_products "L1" limit=3 %}', request)
    assert similar.count("<li") == 3 and 'data-promotions-product="L1"' not in similar
    assert "20% off lanterns" in render('{% promotion_for "L2" %}', request)
    assert render('{% promotion_for "M2" %}', request).strip() == ""


def test_async_mode_renders_a_placeholder_for_the_api_and_the_script_once(lantern_offer):
    html = render(
        '{% personalized_promotions slot="home" async=True %}{% recommended_products async=True %}', visitor_request()
    )
    assert html.count('data-promotions-async="') == 2 and html.count("promotions/async.js") == 1
    assert f'data-url="{reverse("promotions:promotions")}?slot=home&amp;limit=3"' in html


def test_a_tag_never_breaks_the_page(lantern_offer):
    Promotion.objects.filter(pk=lantern_offer.pk).update(rules=5)  # a malformed row
    html = render(
        '{% personalized_promotions slot="home" %}|{% similar_products "NOPE" %}|{% promotion_for "NOPE" %}',
        visitor_request(),
    )
    assert html.replace("\n", "").strip() == "||"


@override_settings(PROMOTIONS=NO_HOLDOUT)
def test_demo_pages_show_the_tags_and_vary_on_cookie(consenting_client, lantern_offer):
    home = consenting_client.get(reverse("shop:home"))
    assert home.status_code == 200 and "Cookie" in home["Vary"]
    assert "20% off lanterns" in home.text
    product = consenting_client.get(reverse("shop:product", args=["L1"]))
    assert "Similar products" in product.text and "20% off lanterns" in product.text


@override_settings(PROMOTIONS=NO_HOLDOUT)
def test_api_gives_the_same_promotions_and_recommendations(consenting_client, lantern_offer):
    response = consenting_client.get(reverse("promotions:promotions"), {"slot": "home", "limit": 2})
    assert response.status_code == 200 and "Cookie" in response["Vary"]
    body = json.loads(response.content)
    assert [p["id"] for p in body["results"]] == [lantern_offer.pk]
    assert body["results"][0]["message"] == "20% off lanterns <b>now</b>"  # JSON: the client escapes
    similar = consenting_client.get(reverse("promotions:recommendations"), {"product": "L1", "limit": 2})
    assert [r["id"][0] for r in json.loads(similar.content)["results"]] == ["L", "L"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"slot": "attic"}, "slot"),
        ({"limit": 0}, "limit"),
        ({"limit": "many"}, "limit"),
        ({"product": "NOPE"}, "product"),
    ],
)
def test_api_refuses_bad_queries_with_field_errors(consenting_client, catalogue, query, field):
    url = reverse("promotions:recommendations" if field == "product" else "promotions:promotions")
    response = consenting_client.get(url, query)
    assert response.status_code == 400 and field in json.loads(response.content)


@override_settings(PROMOTIONS=NO_HOLDOUT)
def test_tag_html_is_kept_per_content_and_language_and_follows_a_price_change(lantern_offer):
    from django.test.signals import template_rendered
    from django.utils import translation

    from shop_demo.models import Product

    rendered = []

    def count(sender, template, **kwargs):
        if template.name == "promotions/tags/products.html":
            rendered.append(template.name)

    template_rendered.connect(count)
    try:
        first = render('{% similar_products "L1" limit=3 %}', visitor_request())
        assert render('{% similar_products "L1" limit=3 %}', visitor_request("b" * 32)) == first
        assert len(rendered) == 1  # the second visitor got the same products: the same HTML, not rendered again
        product = Product.objects.get(stock_code="L2")
        product.price = Decimal("12.34")
        product.save()  # the product's card is read again, so its HTML too
        assert "12.34" in render('{% similar_products "L1" limit=3 %}', visitor_request())
        with translation.override("zh-hans"):
            render('{% similar_products "L1" limit=3 %}', visitor_request())
        assert len(rendered) == 3
    finally:
        template_rendered.disconnect(count)


@override_settings(PROMOTIONS={**NO_HOLDOUT, "CACHE_TAG_HTML": False})
def test_without_the_html_cache_tag_templates_render_every_time_and_see_the_request(lantern_offer, settings, tmp_path):
    (tmp_path / "promotions" / "tags").mkdir(parents=True)
    (tmp_path / "promotions" / "tags" / "products.html").write_text("{{ request.visitor_id }}:{{ picks|length }}")
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [str(tmp_path), *settings.TEMPLATES[0]["DIRS"]]}]
    assert render('{% similar_products "L1" limit=3 %}', visitor_request("c" * 32)) == "c" * 32 + ":3"
    assert render('{% similar_products "L1" limit=3 %}', visitor_request("d" * 32)) == "d" * 32 + ":3"
