"""Erasure is complete: every per-person cache entry in any process, every table holding the
person, the trained models serving them, and old artifacts after the retention count."""

from __future__ import annotations

import ast
import io
import json
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.test import override_settings

import promotions
from promotions.offers.budget import customer_hash
from promotions.offers.models import Redemption
from promotions.recommenders import MODELS, Interactions
from promotions.registry import forget_all
from promotions.serving.promotions import SHOWN_SECONDS
from promotions.serving.recommendations import recommendations_for
from promotions.tasks import purge_expired_events
from promotions.tracking import buffer, personcache, privacy
from promotions.tracking.exposures import exposure_name
from promotions.tracking.models import DeadLetterEvent
from promotions.training import versions
from promotions.training.data import interaction_events
from promotions.training.models import ModelVersion
from promotions.uplift.serving import _logged_name
from shop_demo import settings as shop_settings
from shop_demo.models import Category, Product
from tests.offers.conftest import make_promotion, visitor_request

from .conftest import ALICE_COOKIE, BOB_COOKIE

pytestmark = pytest.mark.django_db


@pytest.fixture
def fresh_registries():
    """The registries as a process that imported no serving module has them after ``ready()``."""
    names, sections = dict(privacy._cache_names), dict(privacy._sections)
    privacy._cache_names.clear()
    privacy._sections.clear()
    apps.get_app_config("promotions").ready()
    yield
    privacy._cache_names.clear()
    privacy._cache_names.update(names)
    privacy._sections.clear()
    privacy._sections.update(sections)


# Real Redis through Django's own backend, which cannot list keys: only declared names are found.
REDIS_CACHE = "django.core.cache.backends.redis.RedisCache"


@pytest.fixture(params=["default", "redis"])
def any_cache(request):
    if request.param == "default":  # the demo's database cache
        cache.clear()
        yield
        cache.clear()
        return
    url = request.getfixturevalue("redis_url")
    with override_settings(CACHES={"default": {"BACKEND": REDIS_CACHE, "LOCATION": url}}):
        yield


def person_entries(visitor_id: str, user_id: int, promotion_id: int) -> list[str]:
    """One key of every per-person entry serving and training write, named as they name them."""
    visitor = [
        "recent_items",
        "live_recommendations",
        "uplift_history",
        "recommendations",
        "returning",
        exposure_name("promotion", promotion_id),
        _logged_name(promotion_id),
        personcache.SHOWN.name.format(slot="home", limit=3),
    ]
    keys = [privacy.visitor_cache_key(visitor_id, name) for name in visitor]
    return [*keys, privacy.user_cache_key(user_id, "recommendations")]


def test_a_fresh_process_erases_every_per_person_cache_entry(fresh_registries, any_cache, alice, bob):
    promotion = make_promotion(frequency_cap=2)
    mine = person_entries(ALICE_COOKIE, alice.pk, promotion.pk)
    theirs = person_entries(BOB_COOKIE, bob.pk, promotion.pk)
    cache.set_many(dict.fromkeys(mine + theirs, [1]), SHOWN_SECONDS)

    person = privacy.find_person(user=alice.pk)
    assert set(privacy.export_person(person)["sections"]["cache"]) == set(mine)
    assert privacy.erase_person(person)["cache"] == len(mine)
    assert cache.get_many(mine) == {}
    assert set(cache.get_many(theirs)) == set(theirs)


def test_entries_of_many_promotions_are_found_in_chunks(alice):
    promotion = make_promotion(frequency_cap=1)
    promotion.__class__.objects.bulk_create([promotion.__class__(name=f"P{n}", message="m") for n in range(400)])
    last = promotion.__class__.objects.order_by("-pk").first().pk
    key = privacy.visitor_cache_key(ALICE_COOKIE, exposure_name("promotion", last))
    cache.set(key, 1)
    assert len(privacy._cache_keys(privacy.find_person(user=alice.pk))) > 2 * privacy.CACHE_CHUNK
    assert privacy.erase_person(privacy.find_person(user=alice.pk))["cache"] == 1
    assert cache.get(key) is None


def test_the_erase_command_in_a_fresh_process_clears_the_cache(fresh_registries, alice):
    cache.set(privacy.visitor_cache_key(ALICE_COOKIE, "recent_items"), [["L1", 1.0]])
    call_command("promotions_erase_user", "--user", str(alice.pk), "--yes", stdout=io.StringIO())
    assert cache.get(privacy.visitor_cache_key(ALICE_COOKIE, "recent_items")) is None


def _module_level_registrations(path: Path) -> list[str]:
    found = []
    for node in ast.parse(path.read_text()).body:
        for call in ast.walk(node):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                break
            if isinstance(call, ast.Call):
                name = getattr(call.func, "id", getattr(call.func, "attr", ""))
                if name.startswith("register_person"):
                    found.append(f"{path.name}:{call.lineno} {name}")
    return found


def test_no_module_registers_personal_data_on_import():
    root = Path(promotions.__file__).parent
    found = [hit for path in sorted(root.rglob("*.py")) for hit in _module_level_registrations(path)]
    assert found == []


# --- Every table holding a person is exported and erased ---------------------------------------

#: Field names that hold a visitor id, a user or another way to single out a person (a payload
#: holds a whole event).
PERSON_NAME = re.compile(r"(^|_)(visitor|user|person|unit|customer|email|session|anchor|payload)(_id|_key|_hash)?$")


def person_fields(model) -> list[str]:
    user_model = get_user_model()
    return [
        field.name
        for field in model._meta.get_fields()
        if field.concrete
        and ((field.is_relation and field.related_model is user_model) or PERSON_NAME.search(field.name))
    ]


def test_every_table_holding_a_person_is_exported_and_erased():
    ours = [
        model
        for config in apps.get_app_configs()
        if config.name.startswith("promotions")
        for model in config.get_models()
    ]
    holding = {model for model in ours if person_fields(model)}
    assert {"Event", "Visitor", "Assignment", "Redemption", "DeadLetterEvent"} <= {model.__name__ for model in holding}
    assert sorted(model.__name__ for model in holding - privacy.covered_models()) == []


def redemption(promotion, order_ref: str, visitor_id: str, user, email: str = "") -> Redemption:
    return Redemption.objects.create(
        promotion=promotion,
        order_ref=order_ref,
        visitor_id=visitor_id,
        user=user,
        email_hash=customer_hash(email),
        session_hash=customer_hash(order_ref + "-session"),
        discount=Decimal("5.00"),
    )


def test_redemptions_are_exported_and_anonymised(alice, bob):
    promotion = make_promotion()
    redemption(promotion, "A-1", ALICE_COOKIE, alice)
    redemption(promotion, "A-2", ALICE_COOKIE, None)  # before she signed in
    redemption(promotion, "A-3", "f" * 32, None, email="alice@example.COM")  # a guest checkout
    redemption(promotion, "B-1", BOB_COOKIE, bob)
    person = privacy.find_person(user=alice.pk)
    exported = privacy.export_person(person)["sections"]["redemptions"]
    assert sorted(row["order_ref"] for row in exported) == ["A-1", "A-2", "A-3"]

    assert privacy.erase_person(person)["redemptions"] == 3
    for row in Redemption.objects.filter(order_ref__startswith="A-"):
        # Every field that could name a person is empty; the discount still counts.
        assert all(getattr(row, name) in ("", None) for name in person_fields(Redemption)), row
        assert row.discount == Decimal("5.00")
    bob_row = Redemption.objects.get(order_ref="B-1")
    assert (bob_row.visitor_id, bob_row.user_id) == (BOB_COOKIE, bob.pk)


def dead_letter(source: str, visitor_id: str, user_id: int | None) -> DeadLetterEvent:
    row = dict.fromkeys(buffer.COLUMNS, "")
    row.update(event_type="view", visitor_id=visitor_id, user_id=user_id, occurred_at="2024-05-01T12:00:00+00:00")
    payload = json.dumps([row[column] for column in buffer.COLUMNS])
    return DeadLetterEvent.objects.create(source_id=source, reason="NUL in query", payload=payload)


def test_dead_lettered_events_are_exported_and_erased(alice, bob):
    dead_letter("1-0", ALICE_COOKIE, None)
    dead_letter("2-0", "e" * 32, alice.pk)  # another device of hers, signed in
    DeadLetterEvent.objects.create(source_id="3-0", reason="broken JSON", payload='{"visitor_id": "' + ALICE_COOKIE)
    dead_letter("4-0", BOB_COOKIE, bob.pk)
    person = privacy.find_person(user=alice.pk)
    exported = privacy.export_person(person)["sections"]["dead_letters"]
    assert [row["source_id"] for row in exported] == ["1-0", "2-0", "3-0"]
    assert privacy.erase_person(person)["dead_letters"] == 3
    assert list(DeadLetterEvent.objects.values_list("source_id", flat=True)) == ["4-0"]


# --- Serving and the trained models ------------------------------------------------------------

ITEMS = {"Lanterns": ["L1", "L2", "L3", "L4"], "Candles": ["C1", "C2", "C3", "C4"]}


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    forget_all()
    versions.forget_active()
    versions._loaded = None
    cache.clear()
    yield
    forget_all()
    versions.forget_active()
    versions._loaded = None
    cache.clear()


def fit(rows: list[tuple[str, str, int]]):
    for name, codes in ITEMS.items():
        category, _ = Category.objects.get_or_create(name=name, slug=name.lower())
        for code in codes:
            Product.objects.get_or_create(
                stock_code=code, defaults={"title": code, "category": category, "price": Decimal("4.00")}
            )
    return MODELS["item_knn"]().fit(Interactions.from_rows(rows))


def store(model, status=ModelVersion.Status.READY) -> ModelVersion:
    version = ModelVersion.objects.create(model_name=model.name, status=status)
    version.artifact.save(f"{model.name}-{version.pk}.npz", ContentFile(model.save()), save=True)
    return version


def test_erasure_removes_the_person_from_the_active_model_at_once(
    media, alice, bob, django_capture_on_commit_callbacks
):
    her = f"u:{alice.pk}"
    # Lantern fans, candle fans, and Alice, who bought two candles.
    rows = [
        (f"p{n}", ITEMS["Lanterns" if n % 2 else "Candles"][(n + step) % 4], 1_700_000_000 + 100 * n + step)
        for n in range(30)
        for step in range(3)
    ]
    rows += [(her, "C1", 1_700_000_100), (her, "C2", 1_700_000_200), (ALICE_COOKIE, "C3", 1_700_000_300)]
    version = store(fit(rows))
    versions.activate(version.pk)
    old_file = version.artifact.name
    request = visitor_request(visitor_id=ALICE_COOKIE, user=alice)

    before = recommendations_for(request, k=3)
    assert {pick.reason.item_id for pick in before if pick.reason} & {"C1", "C2"}  # her stored history drives them
    person = privacy.find_person(user=alice.pk)
    assert {row["version"] for row in privacy.export_person(person)["sections"]["models"]} == {version.pk}

    with django_capture_on_commit_callbacks(execute=True):
        assert privacy.erase_person(person)["models"] == 2  # her user row and her cookie's row

    # Served at once without her history (the one-minute list of the page before went too).
    after = recommendations_for(visitor_request(visitor_id=ALICE_COOKIE, user=alice), k=3)
    assert not {pick.reason.item_id for pick in after if pick.reason} & {"C1", "C2", "C3"}
    assert her not in versions.active_model().user_index
    # The stored artifact no longer holds her; the old file is gone; everyone else is kept.
    version.refresh_from_db()
    stored = version.load_model()
    assert her not in stored.user_index and ALICE_COOKIE not in stored.user_index
    assert "p1" in stored.user_index and stored.recommend("p1", k=2)
    assert not version.artifact.storage.exists(old_file)
    assert privacy.export_person(privacy.find_person(user=alice.pk))["sections"]["models"] == []


def test_the_next_training_does_not_see_the_person(alice, bob):
    privacy.erase_person(privacy.find_person(user=alice.pk))
    people = {(visitor, user) for visitor, user, *_rest in interaction_events()}
    assert people and all(user != alice.pk and visitor != ALICE_COOKIE for visitor, user in people)


def test_the_purge_task_deletes_artifacts_beyond_the_newest_versions(media):
    model = fit([(f"p{n}", code, 1_700_000_000) for n in range(4) for code in ("L1", "L2")])
    stored = [store(model) for _ in range(6)]
    versions.activate(stored[1].pk)
    failed = ModelVersion.objects.create(model_name="x", status=ModelVersion.Status.FAILED)
    files = {version.pk: version.artifact.name for version in stored}

    with override_settings(PROMOTIONS={**shop_settings.PROMOTIONS, "MODEL_ARTIFACTS_KEEP": 3}):
        purge_expired_events()

    kept = set(ModelVersion.objects.exclude(artifact="").values_list("pk", flat=True))
    assert kept == {stored[1].pk, stored[3].pk, stored[4].pk, stored[5].pk}  # the active one and the 3 newest
    storage = stored[0].artifact.storage
    assert {pk for pk, name in files.items() if storage.exists(name)} == kept
    assert ModelVersion.objects.filter(pk=failed.pk).exists()
    assert versions.active_model() is not None
    assert ModelVersion.objects.count() == 7  # rows and their figures stay


@pytest.mark.parametrize("name", ["item_knn", "user_knn", "ease", "hybrid"])
def test_a_forgotten_user_is_served_like_a_stranger_and_leaves_no_trace_in_the_artifact(name):
    her = "erased-person-7"
    rows = [
        (f"p{n}", ("L1", "L2", "C1", "C2")[(n + step) % 4], 1_700_000_000 + 10 * n + step)
        for n in range(12)
        for step in range(2)
    ]
    model = MODELS[name]().fit(Interactions.from_rows([*rows, (her, "C3", 1_700_000_500), (her, "L1", 1_700_000_600)]))
    others = {person: model.recommend(person, k=3) for person in ("p1", "p2")}
    assert her.encode("utf-32-le") in model.save(compress=False)
    assert model.forget_users([her, "nobody"]) == 1
    assert model.forget_users([her]) == 0
    data = model.save(compress=False)
    assert her.encode("utf-32-le") not in data  # not in the model, nor in any part of it
    reloaded = type(model).load(data)
    for served in (model, reloaded):
        assert her not in served.user_index
        assert served.recommend(her, k=3) == served.recommend(None, k=3)
        assert len(served.history(her).indices) == 0
    assert not reloaded.user_items[model.user_ids.tolist().index("")].nnz
    if name in ("item_knn", "ease"):  # user_knn lost her as a neighbour, hybrid her count of buyers
        assert {person: reloaded.recommend(person, k=3) for person in others} == others
