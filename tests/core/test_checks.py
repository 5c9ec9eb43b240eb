"""Each system check fires on the misconfiguration it names, and only then."""

import pytest
from django.core.checks import run_checks
from django.test import override_settings

from shop_demo import settings as shop_settings

TRACKING = "promotions.tracking.middleware.TrackingMiddleware"


def ids(tags=None) -> list[str]:
    return sorted(m.id for m in run_checks(tags=tags) if m.id.startswith("promotions."))


def test_default_settings_are_clean():
    assert ids() == []


def test_e001_missing_middleware():
    middleware = [m for m in shop_settings.MIDDLEWARE if m != TRACKING]
    with override_settings(MIDDLEWARE=middleware):
        assert ids() == ["promotions.E001"]


def test_e002_middleware_before_authentication():
    middleware = [m for m in shop_settings.MIDDLEWARE if m != TRACKING]
    middleware.insert(1, TRACKING)  # before sessions and authentication
    with override_settings(MIDDLEWARE=middleware):
        assert ids() == ["promotions.E002", "promotions.E002"]


@pytest.mark.parametrize("value", ["", "shop_demo", "shop_demo.Nothing", "nowhere.Product"])
def test_e003_bad_product_model(value):
    with override_settings(PROMOTIONS_PRODUCT_MODEL=value):
        assert ids() == ["promotions.E003"]


def test_e004_product_model_lacks_a_named_attribute():
    fields = {**shop_settings.PROMOTIONS["PRODUCT_FIELDS"], "brand": "maker.name", "category": "category.label"}
    with override_settings(PROMOTIONS={**shop_settings.PROMOTIONS, "PRODUCT_FIELDS": fields}):
        messages = [m for m in run_checks() if m.id == "promotions.E004"]
    assert len(messages) == 2
    assert "'maker.name'" in messages[0].msg + messages[1].msg
    assert "'category.label'" in messages[0].msg + messages[1].msg


def test_e004_required_attribute_unset():
    fields = {**shop_settings.PROMOTIONS["PRODUCT_FIELDS"], "price": None}
    with override_settings(PROMOTIONS={**shop_settings.PROMOTIONS, "PRODUCT_FIELDS": fields}):
        assert ids() == ["promotions.E004"]


@pytest.mark.parametrize(
    "url", ["redis//127.0.0.1:6379", "redis://127.0.0.1:notaport/0", "http://127.0.0.1", "redis:///0", 42]
)
def test_e005_malformed_broker_url(url):
    with override_settings(CELERY_BROKER_URL=url):
        assert ids() == ["promotions.E005"]


@pytest.mark.parametrize("url", ["redis://127.0.0.1:6379/1", "amqp://guest:guest@127.0.0.1:5672//", "filesystem://"])
def test_e005_accepts_wellformed_broker_urls(url):
    with override_settings(CELERY_BROKER_URL=url):
        assert ids() == []


@pytest.mark.parametrize("url", ["127.0.0.1:6379", "redis://127.0.0.1:6379/cache", "redis://:99999999"])
def test_e006_malformed_redis_url(url):
    with override_settings(PROMOTIONS={**shop_settings.PROMOTIONS, "REDIS_URL": url}):
        assert ids() == ["promotions.E006"]


def test_e007_unknown_key():
    with override_settings(PROMOTIONS={**shop_settings.PROMOTIONS, "VISITOR_COOKIE": "x"}):
        messages = [m for m in run_checks() if m.id == "promotions.E007"]
    assert len(messages) == 1 and "'VISITOR_COOKIE'" in messages[0].msg


def test_e007_unknown_product_field():
    fields = {**shop_settings.PROMOTIONS["PRODUCT_FIELDS"], "colour": "colour"}
    with override_settings(PROMOTIONS={**shop_settings.PROMOTIONS, "PRODUCT_FIELDS": fields}):
        assert ids() == ["promotions.E007"]


@pytest.mark.parametrize(
    "key,value", [("VISITOR_COOKIE_AGE", "1 year"), ("VISITOR_COOKIE_AGE", -5), ("REDIS_URL", 6379)]
)
def test_e008_wrong_type_or_value(key, value):
    with override_settings(PROMOTIONS={**shop_settings.PROMOTIONS, key: value}):
        assert "promotions.E008" in ids()


def test_e009_adapter_not_importable():
    with override_settings(PROMOTIONS={**shop_settings.PROMOTIONS, "PRODUCT_ADAPTER": "shop.Nope"}):
        assert ids() == ["promotions.E009"]


def test_e010_promotions_not_a_dict():
    with override_settings(PROMOTIONS=["REDIS_URL"]):
        assert "promotions.E010" in ids()


def test_w001_availability_unknown():
    fields = {**shop_settings.PROMOTIONS["PRODUCT_FIELDS"], "available": None}
    with override_settings(PROMOTIONS={**shop_settings.PROMOTIONS, "PRODUCT_FIELDS": fields}):
        assert ids() == ["promotions.W001"]


@pytest.fixture
def mug(db):
    from shop_demo.models import Category, Product

    kitchen = Category.objects.create(name="Kitchen", slug="kitchen")
    return Product.objects.create(stock_code="MUG1", title="Red spotty mug", price="3.50", category=kitchen)


def messages_of(error_id: str) -> list[str]:
    return [m.msg for m in run_checks() if m.id == error_id]


@pytest.mark.django_db
def test_e023_a_path_that_passes_the_model_check_but_fails_on_a_real_product(mug):
    # "get_absolute_url" is an attribute of the model, so the static check lets it through; the
    # adapter's query (select_related) and the read of the product fail, and the check says where.
    fields = {**shop_settings.PROMOTIONS["PRODUCT_FIELDS"], "brand": "get_absolute_url.name"}
    with override_settings(PROMOTIONS={**shop_settings.PROMOTIONS, "PRODUCT_FIELDS": fields}):
        found = messages_of("promotions.E023")
    assert len(found) == 1 and "query fails" in found[0] and "get_absolute_url" in found[0]


@pytest.mark.django_db
def test_e023_an_attribute_that_cannot_be_read_as_what_it_names_is_reported(mug):
    # A price path that names a method: it exists, and reads, but is no number.
    fields = {**shop_settings.PROMOTIONS["PRODUCT_FIELDS"], "price": "get_absolute_url"}
    with override_settings(PROMOTIONS={**shop_settings.PROMOTIONS, "PRODUCT_FIELDS": fields}):
        found = messages_of("promotions.E023")
    assert len(found) == 1 and found[0].startswith("ProductAdapter.info() fails on product 'MUG1': InvalidOperation")


@pytest.mark.django_db
@pytest.mark.django_db
def test_the_product_query_check_is_quiet_on_an_empty_table():
    assert messages_of("promotions.E023") == []  # no product to read
    fields = {**shop_settings.PROMOTIONS["PRODUCT_FIELDS"], "price": "get_absolute_url"}
    with override_settings(PROMOTIONS={**shop_settings.PROMOTIONS, "PRODUCT_FIELDS": fields}):
        assert messages_of("promotions.E023") == []


@pytest.mark.django_db
def test_the_product_query_check_passes_the_demos_own_paths(mug):
    assert messages_of("promotions.E023") == []


def test_e021_e022_url_names_are_resolved():
    promotions = {
        **shop_settings.PROMOTIONS,
        "PRODUCT_VIEW_URL_NAMES": {"shop:product": "pk", "shop:nothing": "pk"},
        "SEARCH_URL_NAMES": ["shop:search", "search"],
    }
    with override_settings(PROMOTIONS=promotions):
        assert ids() == ["promotions.E021", "promotions.E021", "promotions.E022"]
        assert "captures: stock_code" in next(m.hint for m in run_checks() if m.id == "promotions.E022")


@pytest.mark.parametrize("origin", ["shop.example", "https://shop.example:https", "ftp://shop.example", 7, "*"])
def test_e014_allowed_origin_is_not_an_origin(origin):
    with override_settings(PROMOTIONS={**shop_settings.PROMOTIONS, "ALLOWED_ORIGINS": ["https://ok.example", origin]}):
        assert ids() == ["promotions.E014"]
