"""Categories derived from product titles: the rules, and the requirements on the real catalogue."""

import csv
import gzip
from collections import Counter

import pytest

from shop_demo.catalog.categories import FALLBACK_CATEGORY, MIN_CATEGORY_SIZE, assign_categories, categorize


@pytest.mark.parametrize(
    ("title", "category"),
    [
        ("WHITE HANGING HEART T-LIGHT HOLDER", "Candles & Lights"),
        ("JUMBO BAG RED RETROSPOT", "Bags & Purses"),
        ("LUNCH BAG RED RETROSPOT", "Lunch & Picnic"),  # the earlier rule wins
        ("PAPER CHAIN KIT 50'S CHRISTMAS", "Christmas"),  # seasonal first
        ("SET OF 4 DIAMOND NAPKIN RINGS", "Tableware"),  # a phrase beats the single word RING
        ("MINI PLAYING CARDS DOLLY GIRL", "Toys & Games"),  # ... and the single word CARD
        ("PACK OF 72 RETROSPOT CAKE CASES", "Baking"),
        ("ROSES REGENCY TEACUP AND SAUCER", "Mugs & Cups"),
        ("STRAWBERRY HANDBAG", "Bags & Purses"),  # STRAW matches whole words only
        ('FLOWER GLASS GARLD NECKL36"AMETHYST', "Jewellery"),  # digits do not glue words together
        ("set/4 skull badges", "Party"),  # case-insensitive
        ("ALARM CLOCK BAKELIKE RED", "Clocks"),
        ("HOME BUILDING BLOCK WORD", "Toys & Games"),
        ("METAL SIGN TAKE IT OR LEAVE IT", "Wall Art & Signs"),
    ],
)
def test_categorize(title, category):
    assert categorize(title) == category


def test_categorize_returns_none_without_keyword():
    assert categorize("High Resolution Image") is None
    assert categorize("") is None


def test_assign_categories_folds_unmatched_titles_and_small_categories():
    clocks = [f"WALL CLOCK {number}" for number in range(MIN_CATEGORY_SIZE)]
    titles = [*clocks, "ALARM", "SOMETHING NAMELESS", "BLUE MUG"]  # one extra clock; one mug only
    assigned = assign_categories(titles)
    assert {assigned[title] for title in clocks} == {"Clocks"}
    assert assigned["SOMETHING NAMELESS"] == FALLBACK_CATEGORY
    assert assigned["BLUE MUG"] == FALLBACK_CATEGORY


@pytest.mark.data
def test_real_catalogue_meets_the_category_requirements(datasets_dir):
    with gzip.open(datasets_dir / "online-retail" / "items.csv.gz", "rt", encoding="utf-8", newline="") as file:
        titles = [row["title"] for row in csv.DictReader(file)]
    assigned = assign_categories(titles)
    sizes = Counter(assigned[title] for title in titles)
    named = {category: size for category, size in sizes.items() if category != FALLBACK_CATEGORY}

    assert sum(named.values()) / len(titles) >= 0.9
    assert 15 <= len(named) <= 60
    assert min(named.values()) >= MIN_CATEGORY_SIZE
    assert assign_categories(titles) == assigned  # deterministic
