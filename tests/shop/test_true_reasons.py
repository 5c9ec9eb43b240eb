"""Every heading holds for every product under it, on the demo's home, category, product and cart
pages, for many visitors with varied histories.

The demo's sample catalogue and order history, a hybrid model trained on it and the example
promotions; each visitor views a few products (of one, two or three categories), then the pages
are rendered as they are served and read back: each block (``data-promotions-block``) and each
product card in it (``data-promotions-item``, its reason as data in ``data-promotions-reason``).

- a promotion card lists only products its target covers (its message is its heading), and why
  it is shown names a product the visitor viewed or was picked that the promotion covers;
- a block headed by a reason lists only products with exactly that reason;
- each card's reason is true of that product: "Trending / Popular in C" only for a product of C,
  a reason naming an item only for an item of the visitor's history (or, on a product page,
  that product).
"""

from __future__ import annotations

import random
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.test import Client, override_settings
from django.urls import reverse

from promotions.offers.models import Promotion
from promotions.offers.service import forget_live_promotions
from promotions.recommenders import MODELS, Interactions, Reason
from promotions.registry import forget_all
from promotions.serving.reasons import CATEGORY_KINDS, HISTORY_KINDS, reason_heading
from promotions.training import versions
from promotions.training.models import ModelVersion
from shop_demo.catalog.loading import load_catalogue, load_history
from shop_demo.catalog.promotions import create_example_promotions
from shop_demo.consent import ACCEPTED, COOKIE_NAME
from shop_demo.models import OrderLine, Product

pytestmark = pytest.mark.django_db
BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"
VISITORS = 24
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


@pytest.fixture
def shop(tmp_path: Path):
    cache.clear()
    forget_all()
    forget_live_promotions()
    load_catalogue(tmp_path / "missing")  # the built-in sample
    load_history(tmp_path / "missing")
    lines = OrderLine.objects.select_related("order", "product")
    rows = [(line.order.customer_ref, line.product.stock_code, line.order.created_at.timestamp()) for line in lines]
    items = [
        {"id": p.stock_code, "title": p.title, "category": p.category.name}
        for p in Product.objects.select_related("category")
    ]
    model = MODELS["hybrid"]().fit(Interactions.from_rows(rows), items)
    version = ModelVersion.objects.create(model_name="hybrid", status=ModelVersion.Status.READY)
    version.artifact.save(f"hybrid-{version.pk}.npz", ContentFile(model.save()), save=True)
    versions.activate(version.pk)
    create_example_promotions()
    yield
    forget_all()
    forget_live_promotions()


class Blocks(HTMLParser):
    """The blocks of a page and the product cards (and the promotion's own reason) in each."""

    def __init__(self):
        super().__init__()
        self.stack: list[tuple[str, dict | None]] = []
        self.blocks: list[dict] = []
        self.cards: list[dict] = []
        self.headings: list[str] = []
        self._heading: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        block = None
        if "data-promotions-block" in attrs:
            block = {"block": attrs["data-promotions-block"], "items": [], "why": None}
            self.blocks.append(block)
        inner = next((b for _t, b in reversed(self.stack) if b is not None), None)
        if inner is not None and "data-promotions-item" in attrs:
            inner["items"].append((attrs["data-promotions-item"], attrs.get("data-promotions-reason", "")))
        if inner is not None and "promotion-reason" in attrs.get("class", ""):
            inner["why"] = attrs.get("data-promotions-reason")
        if "data-promotions-item" in attrs:
            self.cards.append(attrs)
        if tag == "h3" and "block-reason" in attrs.get("class", ""):
            self._heading = []
        if tag not in VOID:
            self.stack.append((tag, block))

    def handle_data(self, data):
        if self._heading is not None:
            self._heading.append(data)

    def handle_endtag(self, tag):
        if tag == "h3" and self._heading is not None:
            self.headings.append("".join(self._heading).strip())
            self._heading = None
        while self.stack:
            if self.stack.pop()[0] == tag:
                break


def reason_of(key: str) -> Reason | None:
    if not key:
        return None
    kind, item, category, *days = key.split("|")
    return Reason(kind, item or None, category or None, int(days[0]) if days else None)


def check_page(html: str, known: set[str], products: dict[str, Product], where: str) -> int:
    """Assert every block and card of ``html`` is true; returns how many cards were checked."""
    page = Blocks()
    page.feed(html)
    for block in page.blocks:
        kind, _, value = block["block"].partition(":")
        items = [item for item, _reason in block["items"]]
        if kind == "promotion":
            promotion = Promotion.objects.get(pk=int(value))
            for item in items:
                product = products[item]
                brand = product.brand.name if product.brand else ""
                assert promotion.target.covers(item, product.category.name, brand), (where, promotion.name, item)
            why = reason_of(block["why"] or "")
            if why is not None and why.item_id:
                product = products[why.item_id]
                brand = product.brand.name if product.brand else ""
                assert promotion.target.covers(why.item_id, product.category.name, brand), (where, promotion.name)
                if why.kind == "offer_viewed":
                    assert why.item_id in known, (where, promotion.name, why)
        elif kind == "reason":
            assert items and all(reason == value for _item, reason in block["items"]), (where, block)
            assert reason_heading(reason_of(value)) in page.headings, (where, value)
        else:
            assert kind == "picks", (where, block["block"])
    for card in page.cards:
        reason = reason_of(card.get("data-promotions-reason", ""))
        product = products[card["data-promotions-item"]]
        if reason is None:
            continue
        if reason.kind in CATEGORY_KINDS and reason.category:
            assert reason.category == product.category.name, (where, product.title, reason)
        if reason.kind in HISTORY_KINDS:
            assert reason.item_id in known, (where, product.title, reason)
    return len(page.cards)


@override_settings(PROMOTIONS={**settings.PROMOTIONS, "HOLDOUT_SHARE": 0})
def test_every_heading_holds_for_every_product_under_it(shop):
    products = {p.stock_code: p for p in Product.objects.select_related("category", "brand")}
    by_category: dict[str, list[str]] = {}
    for code, product in sorted(products.items()):
        by_category.setdefault(product.category.name, []).append(code)
    rng = random.Random(7)
    checked = reasons_seen = 0
    kinds: set[str] = set()
    for visitor in range(VISITORS):
        client = Client(HTTP_USER_AGENT=BROWSER)
        client.cookies[COOKIE_NAME] = ACCEPTED
        categories = rng.sample(sorted(by_category), k=1 + visitor % 3)
        viewed = [rng.choice(by_category[name]) for name in categories for _ in range(1 + visitor % 2)]
        for code in viewed:
            assert client.get(reverse("shop:product", args=[code])).status_code == 200
        known = set(viewed)
        pages = {"home": reverse("shop:home"), "category": products[viewed[-1]].category.get_absolute_url()}
        for name, url in pages.items():
            checked += check_page(client.get(url).text, known, products, f"visitor {visitor} {name}")
        product = rng.choice(sorted(products))
        page = client.get(reverse("shop:product", args=[product])).text
        checked += check_page(page, known | {product}, products, f"visitor {visitor} product {product}")
        known.add(product)
        client.post(reverse("shop:cart_add", args=[viewed[0]]), {"quantity": 1})
        cart = client.get(reverse("shop:cart")).text
        checked += check_page(cart, known, products, f"visitor {visitor} cart")
        for html in (page, cart):
            parsed = Blocks()
            parsed.feed(html)
            for card in parsed.cards:
                if card.get("data-promotions-reason"):
                    reasons_seen += 1
                    kinds.add(card["data-promotions-reason"].split("|")[0])
    # The check saw many cards and reasons of several kinds, history-based ones among them.
    assert checked > VISITORS * 20 and reasons_seen > VISITORS * 5
    assert kinds & HISTORY_KINDS and len(kinds) >= 3, kinds
