"""What a tag needs to show a product, kept per process so a warm render runs no query.

A card is read through the product adapter once and kept until the product is saved or deleted in
this process (the same receivers that refresh the event buffer's product cache) or for
``CARD_SECONDS``, so other processes pick up price and stock changes within that time.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .products import get_adapter

CARD_SECONDS = 60.0
MAX_CARDS = 50_000


@dataclass(frozen=True)
class ProductCard:
    id: str
    title: str
    url: str
    price: Decimal
    cost: Decimal | None
    category: str
    brand: str
    available: bool
    image_url: str = ""


_cards: dict[str, tuple[float, ProductCard | None]] = {}
_lock = threading.Lock()


def forget_cards(sender: Any = None, instance: Any = None, **kwargs: Any) -> None:
    """Receiver of product saves and deletes (and a way to clear everything: no instance)."""
    global _catalogue_loaded_at
    if instance is None:
        _cards.clear()
        _catalogue_loaded_at = -WHOLE_CATALOGUE_SECONDS
        return
    try:
        _cards.pop(get_adapter().get_id(instance), None)
    except Exception:  # an adapter that cannot read a half-built instance: forget everything
        _cards.clear()


def _card(adapter, product: Any) -> ProductCard:
    info = adapter.info(product)
    url, image = adapter.get_url(product), adapter.get_image_url(product)
    return ProductCard(
        info.id, info.title, url, info.price, info.cost, info.category, info.brand, info.available, image
    )


#: A catalogue up to this size is read whole on a miss (one query, then every card is warm), at
#: most once per WHOLE_CATALOGUE_SECONDS; in between, expired cards are re-read by id.
WHOLE_CATALOGUE_LIMIT = 20_000
WHOLE_CATALOGUE_SECONDS = 600.0
_catalogue_loaded_at = -WHOLE_CATALOGUE_SECONDS


def _whole_catalogue(adapter, now: float) -> dict[str, Any] | None:
    """All products by id when the catalogue is small and was not read whole lately."""
    global _catalogue_loaded_at
    if now - _catalogue_loaded_at < WHOLE_CATALOGUE_SECONDS:
        return None
    _catalogue_loaded_at = now
    products = adapter.all_products()
    if products.count() > WHOLE_CATALOGUE_LIMIT:
        return None
    loaded = {adapter.get_id(product): product for product in products}
    with _lock:
        if len(_cards) > MAX_CARDS:
            _cards.clear()
        for item_id, product in loaded.items():
            _cards[item_id] = (now, _card(adapter, product))
    return loaded


def cards(ids: Iterable[str]) -> dict[str, ProductCard]:
    """Cards of the known products among ``ids`` (unknown ids are left out)."""
    ids = list(dict.fromkeys(ids))
    now = time.monotonic()
    found: dict[str, ProductCard] = {}
    missing = []
    for item_id in ids:
        entry = _cards.get(item_id)
        if entry is None or now - entry[0] > CARD_SECONDS:
            missing.append(item_id)
        elif entry[1] is not None:
            found[item_id] = entry[1]
    if missing:
        adapter = get_adapter()
        loaded = _whole_catalogue(adapter, now) or adapter.get_by_ids(missing)
        with _lock:
            if len(_cards) > MAX_CARDS:
                _cards.clear()
            for item_id in missing:
                product = loaded.get(item_id)
                card = _card(adapter, product) if product is not None else None
                _cards[item_id] = (now, card)
                if card is not None:
                    found[item_id] = card
    return found
