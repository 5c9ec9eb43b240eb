"""Categories derived from product titles.

The Online Retail data has no categories, so the shop derives them from the titles with an
ordered table of keyword rules: the first rule with a keyword in the title names its category.
Keywords match whole words, case-insensitively, and a trailing plural ``S`` also matches
("CANDLE" matches "CANDLES"). The order settles titles that fit several rules: a Christmas
candle is filed under Christmas, a lunch bag under Lunch & Picnic rather than Bags.

Pure Python (no Django) so that the rules can be tuned and tested on the titles alone.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

FALLBACK_CATEGORY = "Gifts & Novelties"
MIN_CATEGORY_SIZE = 10

# (category, keywords), first match wins: seasonal and specific rules come before generic ones.
RULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Christmas", ("CHRISTMAS", "XMAS", "ADVENT", "SANTA", "REINDEER", "SNOWFLAKE", "SNOWMAN", "NATIVITY", "BAUBLE")),
    ("Easter", ("EASTER", "EGG", "CHICK", "BUNNY")),
    ("Jewellery", ("NECKLACE", "NECKL", "BRACELET", "EARRINGS", "PENDANT", "BROOCH", "BEAD", "CHARM", "BANGLE")),
    ("Hair Accessories", ("HAIR", "HAIRCLIP", "HAIRBAND", "BOBBLE", "SLIDE", "ALICE BAND", "HAIR COMB")),
    ("Lunch & Picnic", ("LUNCH", "PICNIC", "SNACK", "FLASK", "LUNCHBOX")),
    ("Party", ("PARTY", "BUNTING", "BALLOON", "BIRTHDAY", "CAKE CASES", "PARTY BAG")),
    ("Cards & Gift Wrap", ("CARD", "WRAP", "WRAPPING", "GIFT TAG", "TISSUE", "RIBBON", "ENVELOPE", "POSTCARD")),
    ("Bags & Purses", ("BAG", "HANDBAG", "SHOPPER", "TOTE", "WASHBAG", "PURSE", "WALLET", "BACKPACK", "RUCKSACK")),
    (
        "Candles & Lights",
        ("CANDLE", "T-LIGHT", "TLIGHT", "CANDLEHOLDER", "LANTERN", "LIGHT", "LAMP", "LAMPSHADE", "NIGHTLIGHT"),
    ),
    ("Home Fragrance", ("INCENSE", "OIL BURNER", "SCENT", "FRAGRANCE", "POT POURRI", "POT POURI", "DIFFUSER")),
    ("Mugs & Cups", ("MUG", "CUP", "TEACUP", "BEAKER", "SAUCER")),
    (
        "Tableware",
        ("PLATE", "BOWL", "DISH", "CUTLERY", "NAPKIN", "COASTER", "PLACEMAT", "JUG", "TEAPOT", "CAKESTAND", "GLASS"),
    ),
    (
        "Kitchen & Baking",
        ("BAKING", "APRON", "OVEN GLOVE", "TEA TOWEL", "SPOON", "MEASURING", "KITCHEN", "PANTRY", "FRYING PAN"),
    ),
    ("Storage", ("TIN", "BOX", "BOXES", "JAR", "BASKET", "STORAGE", "DRAWER", "CABINET", "TRINKET", "CRATE")),
    (
        "Stationery",
        ("NOTEBOOK", "PEN", "PENCIL", "ERASER", "RUBBER", "STICKER", "SKETCHBOOK", "CALENDAR", "DIARY", "NOTEPAD"),
    ),
    ("Signs & Plaques", ("SIGN", "PLAQUE", "DOORSIGN")),
    ("Clocks", ("CLOCK", "ALARM")),
    ("Frames & Mirrors", ("FRAME", "MIRROR", "PHOTO", "ALBUM")),
    ("Cushions & Textiles", ("CUSHION", "THROW", "BLANKET", "QUILT", "TOWEL", "HOT WATER BOTTLE", "DOORMAT")),
    ("Garden", ("GARDEN", "WATERING CAN", "PLANT", "BIRD FEEDER", "PLANTER", "FLOWER POT")),
    ("Toys & Games", ("TOY", "JIGSAW", "GAME", "DOLL", "PUZZLE", "SKITTLES", "DOMINOES", "SPINNING TOP", "KITE")),
    ("Hooks & Knobs", ("HOOK", "HANGER", "COAT RACK", "KNOB")),
    ("Decorations", ("DECORATION", "HANGING", "GARLAND", "WREATH", "ORNAMENT", "MOBILE", "CHIME")),
    ("Umbrellas & Fans", ("UMBRELLA", "PARASOL", "FAN")),
    ("Magnets & Keyrings", ("MAGNET", "KEYRING", "KEY RING")),
)


def _keyword_pattern(keywords: Iterable[str]) -> re.Pattern[str]:
    alternatives = "|".join(re.escape(keyword) for keyword in sorted(keywords, key=len, reverse=True))
    return re.compile(rf"\b(?:{alternatives})S?\b")


_COMPILED_RULES = tuple((category, _keyword_pattern(keywords)) for category, keywords in RULES)


def categorize(title: str) -> str | None:
    """The category named by the first rule matching ``title``, or None when no rule matches."""
    normalized = " ".join(title.upper().split())
    for category, pattern in _COMPILED_RULES:
        if pattern.search(normalized):
            return category
    return None


def assign_categories(titles: Iterable[str]) -> dict[str, str]:
    """Map each title to a category; unmatched titles and categories under the minimum size go to the fallback."""
    matched = {title: categorize(title) for title in titles}
    sizes = Counter(matched.values())
    return {
        title: category if category is not None and sizes[category] >= MIN_CATEGORY_SIZE else FALLBACK_CATEGORY
        for title, category in matched.items()
    }
