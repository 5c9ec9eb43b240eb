"""A small shop with three categories, a fitted item-kNN model as the active version, and fresh
per-process serving caches for every test."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.cache import cache
from django.core.files.base import ContentFile

from promotions.recommenders import MODELS, Interactions
from promotions.registry import forget_all
from promotions.tracking.capture import make_event
from promotions.training import versions
from promotions.training.models import ModelVersion
from shop_demo.models import Category, Product
from tests.offers.conftest import visitor_request

ITEMS = {"Lanterns": ["L1", "L2", "L3", "L4"], "Candles": ["C1", "C2", "C3", "C4"], "Mugs": ["M1", "M2", "M3", "M4"]}


def forget_everything() -> None:
    forget_all()
    versions._loaded = None


@pytest.fixture(autouse=True)
def fresh(settings, tmp_path, db):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    cache.clear()
    forget_everything()
    yield
    forget_everything()
    cache.clear()


@pytest.fixture
def catalogue(db):
    for name, codes in ITEMS.items():
        category = Category.objects.create(name=name, slug=name.lower())
        for code in codes:
            Product.objects.create(
                stock_code=code, title=f"{name[:-1]} {code}", category=category, price=Decimal("10.00")
            )


def interactions() -> Interactions:
    """30 people who each look at items of one category; lanterns are the most popular."""
    rows = []
    for person in range(30):
        codes = ITEMS[["Lanterns", "Lanterns", "Candles", "Mugs"][person % 4]]
        for step in range(3):
            rows.append((f"p{person}", codes[(person + step) % 4], 1_700_000_000 + person * 100 + step))
    return Interactions.from_rows(rows)


@pytest.fixture
def active_model(catalogue):
    model = MODELS["hybrid"]().fit(
        interactions(),
        [
            {"id": p.stock_code, "title": p.title, "category": p.category.name}
            for p in Product.objects.select_related("category")
        ],
    )
    version = ModelVersion.objects.create(model_name="hybrid", status=ModelVersion.Status.READY)
    version.artifact.save(f"hybrid-{version.pk}.npz", ContentFile(model.save()), save=True)
    versions.activate(version.pk)
    return version


def lantern_fan(visitor_id: str = "a" * 32):
    """A visitor's request whose pending page view is of lantern L1."""
    request = visitor_request(visitor_id=visitor_id)
    request.promotions.events.append(make_event(request, "view", item_id="L1"))
    return request
