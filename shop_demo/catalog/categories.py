"""Categories derived from product titles.

The Online Retail data has no categories, so the shop derives them from the titles with a table
of keyword rules. Keywords match whole words, case-insensitively, and a trailing plural ``S``
also matches ("CANDLE" matches "CANDLES"). A title takes the category of:

1. the first seasonal rule (Christmas, Easter) with a keyword in the title: the shop shows its
   Christmas range in one place, gift bags and candles included; else
2. the first rule with a multi-word keyword in the title ("NAPKIN RING", "CAKE CASES" and
   "PLAYING CARDS" say more than any single word they contain); else
3. the first rule with a single-word keyword in the title.

The order of the table settles the remaining overlaps: specific rules come first, broad words
such as HEART or HANGING last.

Pure Python (no Django) so that the rules can be tuned and tested on the titles alone.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable

FALLBACK_CATEGORY = "Other"

#: The categories' names in Simplified Chinese, shipped with the rules (Category.name_zh_hans);
#: a category missing here shows its English name on Chinese pages.
NAMES_ZH_HANS = {
    "Christmas": "圣诞节",
    "Easter": "复活节",
    "Cards & Gift Wrap": "贺卡与礼品包装",
    "Magnets & Keyrings": "冰箱贴与钥匙扣",
    "Jewellery": "首饰",
    "Hair Accessories": "发饰",
    "Lunch & Picnic": "午餐与野餐",
    "Party": "派对用品",
    "Candles & Lights": "蜡烛与灯饰",
    "Home Fragrance": "家居香氛",
    "Baking": "烘焙",
    "Mugs & Cups": "马克杯与杯子",
    "Tableware": "餐具",
    "Kitchen": "厨房用品",
    "Stationery": "文具",
    "Crafts & Sewing": "手工与缝纫",
    "Bags & Purses": "包袋与钱包",
    "Storage": "收纳",
    "Wall Art & Signs": "墙饰与标牌",
    "Clocks": "钟表",
    "Frames & Mirrors": "相框与镜子",
    "Cushions & Textiles": "靠垫与布艺",
    "Bath & Beauty": "沐浴与美妆",
    "Garden": "园艺",
    "Toys & Games": "玩具与游戏",
    "Hooks & Knobs": "挂钩与把手",
    "Travel & Outdoor": "旅行与户外",
    "Accessories": "配饰",
    "Home Essentials": "家居必备",
    "Furniture": "家具",
    "Decorations": "装饰品",
    "Other": "其他",
}
MIN_CATEGORY_SIZE = 10
SEASONAL_CATEGORIES = ("Christmas", "Easter")

RULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "Christmas",
        ("CHRISTMAS", "XMAS", "ADVENT", "SANTA", "REINDEER", "SNOWFLAKE", "SNOWMAN", "NATIVITY", "BAUBLE", "TINSEL")
        + ("SLEIGH", "HOLLY", "NOEL", "JINGLE BELL", "ICICLE", "ANGEL"),
    ),
    ("Easter", ("EASTER", "CHICK", "BUNNY", "BUNNIES")),
    (
        "Cards & Gift Wrap",
        ("CARD", "WRAP", "WRAPPING", "GIFT TAG", "GIFT BAG", "GIFT TAPE", "TISSUE", "RIBBON", "ENVELOPE", "POSTCARD"),
    ),
    ("Magnets & Keyrings", ("MAGNET", "KEYRING", "KEY RING", "KEY FOB", "KEY-CHAIN")),
    (
        "Jewellery",
        ("NECKLACE", "NECKLAC", "NECKL", "BRACELET", "BRACLET", "EARRING", "PENDANT", "BROOCH", "BEAD", "CHARM")
        + ("BANGLE", "RING", "LARIAT", "JEWELLERY"),
    ),
    ("Hair Accessories", ("HAIR", "HAIRCLIP", "HAIRSLIDE", "HAIRBAND", "HAIRGRIP", "BOBBLE", "ALICE BAND")),
    ("Lunch & Picnic", ("LUNCH", "LUNCHBOX", "PICNIC", "SNACK", "FLASK")),
    (
        "Party",
        ("PARTY", "BUNTING", "BALLOON", "BIRTHDAY", "CONFETTI", "STRAW", "PAPER CHAIN", "COCKTAIL", "PAPER CUP")
        + ("HONEYCOMB", "DOILIES", "BADGE", "TATTOO", "ROSETTE", "DISCO BALL", "TIARA", "LEIS"),
    ),
    (
        "Candles & Lights",
        ("CANDLE", "T-LIGHT", "TLIGHT", "TEALIGHT", "CANDLEHOLDER", "CANDLEPOT", "CANDLESTICK", "CANDLESTAND")
        + ("VOTIVE", "LANTERN", "LIGHT", "LAMP", "LAMPSHADE", "NIGHTLIGHT", "CHANDELIER", "LIGHTBULB", "BULB", "LED")
        + ("TORCH", "MATCHES"),
    ),
    ("Home Fragrance", ("INCENSE", "OIL BURNER", "SCENT", "FRAGRANCE", "POT POURRI", "POT POURI", "DIFFUSER")),
    (
        "Baking",
        ("BAKING", "CAKE CASES", "PETIT FOUR CASES", "CAKE TIN", "COOKIE CUTTER", "BISCUIT CUTTER", "CAKE STAND")
        + (
            "CAKESTAND",
            "CAKE CARRIER",
            "CAKE FORK",
            "CAKE SLICE",
            "ICING",
            "ROLLING PIN",
            "LOLLY MAKER",
            "LOLLY MOULD",
        ),
    ),
    ("Mugs & Cups", ("MUG", "CUP", "TEACUP", "BEAKER", "SAUCER")),
    (
        "Tableware",
        (
            "PLATE",
            "BOWL",
            "FRUITBOWL",
            "DISH",
            "CUTLERY",
            "NAPKIN",
            "NAPKIN RING",
            "NAPKIN CHARM",
            "COASTER",
            "PLACEMAT",
        )
        + (
            "JUG",
            "TEAPOT",
            "WINE GLASS",
            "TEA GLASS",
            "APERITIF GLASS",
            "MILKSHAKE GLASS",
            "CHAMPAGNE GLASS",
            "TEA FOR ONE",
            "COFFEE SET",
            "CHALICE",
            "PLATTER",
            "TUMBLER",
            "GOBLET",
            "TABLECLOTH",
            "TABLE CLOTH",
            "TABLE RUN",
            "EGG CUP",
        )
        + ("PLACE SETTING", "TEA SET", "TRAY", "CHOPSTICK", "SALT AND PEPPER", "SUGAR DISPENSER", "BREAKFAST SET"),
    ),
    (
        "Kitchen",
        ("APRON", "OVEN GLOVE", "OVEN MITT", "TEA TOWEL", "SPOON", "MEASURING", "KITCHEN", "PANTRY", "PAN")
        + ("CHOPPING BOARD", "BREAD BIN", "FOOD COVER", "FOOD CONTAINER", "CONTAINER", "COLANDER", "LADLE")
        + ("TEA COSY", "WASHING UP", "SQUEEZER", "TOASTRACK", "TEA STRAINER", "SUGAR TONGS", "UTENSIL")
        + (
            "BOTTLE OPENER",
            "CADDY",
            "JAM MAKING",
            "COOKING SET",
            "BISCUIT BARREL",
            "POPCORN HOLDER",
            "JAM POT",
            "EGG COSY",
            "EGG WARMER",
            "EGG HOLDER",
        ),
    ),
    (
        "Stationery",
        ("NOTEBOOK", "NOTE BOOK", "JOURNAL", "POCKET BOOK", "EXERCISE BOOK", "ADDRESS BOOK", "SCRAP BOOK", "PEN")
        + ("PENCIL", "ERASER", "RUBBER", "STICKER", "SKETCHBOOK", "CALENDAR", "DIARY", "NOTEPAD", "STATIONERY")
        + ("RULER", "CALCULATOR", "CRAYON", "CHALK", "STAMP SET", "HOLE PUNCH", "TAPE", "PAPERWEIGHT", "P'WEIGHT")
        + (
            "MEMO BOARD",
            "MEMOBOARD",
            "BLACKBOARD",
            "CHALKBOARD",
            "NOTELETS",
            "SHARPENER",
            "CLIPBOARD",
            "SCISSOR",
            "WRITING SET",
        ),
    ),
    (
        "Crafts & Sewing",
        ("SEWING", "KNITTING", "FELTCRAFT", "CRAFT", "STENCIL", "PATCHES", "PAINT SET", "COLOURING", "MODELLING")
        + ("NEEDLE", "TAPE MEASURE", "CROCHET FLOWER", "CANVAS SET", "SEW ON", "ORIGAMI", "BUTTON"),
    ),
    (
        "Bags & Purses",
        ("BAG", "HANDBAG", "SHOPPER", "TOTE", "WASHBAG", "PURSE", "WALLET", "BACKPACK", "RUCKSACK", "GLASSES CASE"),
    ),
    (
        "Storage",
        ("TIN", "BOX", "BOXES", "JAR", "BASKET", "STORAGE", "DRAWER", "CABINET", "TRINKET", "CRATE", "BUCKET")
        + ("MONEY BANK", "PIGGY BANK", "TREASURE CHEST", "HAMPER", "CANNISTER", "CANISTER"),
    ),
    ("Wall Art & Signs", ("WALL ART", "CANVAS", "PICTURE", "PRINT", "SIGN", "PLAQUE", "DOORSIGN", "NUMBER TILE")),
    ("Clocks", ("CLOCK", "ALARM", "WALL CLOCK")),
    ("Frames & Mirrors", ("FRAME", "PHOTOFRAME", "PICTURE FRAME", "MIRROR", "PHOTO", "ALBUM")),
    (
        "Cushions & Textiles",
        ("CUSHION", "THROW", "BLANKET", "QUILT", "TOWEL", "HOT WATER BOTTLE", "HOTTIE", "FILLER PAD", "FLANNEL"),
    ),
    (
        "Bath & Beauty",
        ("BATHROOM", "SOAP", "BATH", "SPONGE", "SHOWER CAP", "TOILETTE", "LIP GLOSS", "COSMETIC", "MANICURE")
        + ("NAIL", "BATHROOM SCALES", "APOTHECARY"),
    ),
    (
        "Garden",
        ("GARDEN", "GARDENERS", "WATERING CAN", "PLANT", "PLANTER", "BIRD FEEDER", "FLOWER POT", "HERB MARKER")
        + ("GROW YOUR OWN", "GNOME", "BIRD HOUSE", "BIRDHOUSE", "BIRD TABLE", "POTTING SHED", "SPADE", "WHEELBARROW")
        + ("KNEELING", "TWINE"),
    ),
    (
        "Toys & Games",
        ("TOY", "JIGSAW", "GAME", "DOLL", "PUZZLE", "SKITTLES", "DOMINOES", "SPINNING TOP", "KITE", "PLAYING CARDS")
        + ("HELICOPTER", "TEDDY", "PUPPET", "BINGO", "LUDO", "SNAKES & LADDERS", "NAUGHTS & CROSSES", "SKIPPING")
        + ("SKIPPPING", "FLYING DISC", "INFLATABLE", "BUBBLES", "CREEPY CRAWLIE", "FARMYARD", "BUILDING BLOCK")
        + ("ROCKING HORSE", "PLAYHOUSE", "WINDMILL", "DRAWING SLATE", "GLIDER", "PIECE DINOSAUR", "PIECE SNAKE")
        + ("SOLDIER", "MARBLES", "YO-YO", "FARM ANIMAL", "RADIO"),
    ),
    ("Hooks & Knobs", ("HOOK", "HANGER", "COAT RACK", "KNOB", "DRAWERKNOB", "DRAWER KNOB", "SUCTION CUP")),
    (
        "Travel & Outdoor",
        ("UMBRELLA", "PARASOL", "RAIN PONCHO", "PONCHO", "RAIN HAT", "RAIN MAC", "HAMMOCK", "LUGGAGE TAG", "TRAVEL")
        + ("PASSPORT", "VIPPASSPORT", "BICYCLE", "FIRST AID", "WINDSOCK", "FLAG", "SUNGLASSES", "BEACH"),
    ),
    (
        "Accessories",
        ("SCARF", "HAND WARMER", "SLIPPER", "EAR MUFF", "GLOVES", "FAN", "HAT", "SOCK", "MITTENS", "BIB"),
    ),
    (
        "Home Essentials",
        ("DOORSTOP", "DOORMAT", "BIN", "CURTAIN", "LETTER RACK", "MAGAZINE RACK", "WALL TIDY", "ORGANISER", "PEG")
        + ("RACK", "DOORBELL", "THERMOMETER", "FLY SWAT", "IRONING", "MAT", "SHOE TIDY", "LETTER HOLDER", "ASHTRAY"),
    ),
    (
        "Furniture",
        ("CHAIR", "STOOL", "POUFFE", "SHELF", "SHELF UNIT", "SEAT", "DESK", "TABLE", "CHEST", "SCREEN"),
    ),
    (
        "Decorations",
        (
            "DECORATION",
            "TABLE DECORATION",
            "HANGING",
            "GARLAND",
            "WREATH",
            "ORNAMENT",
            "MOBILE",
            "CHIME",
            "WINDCHIME",
            "HEART",
            "STAR",
        )
        + ("FEATHER TREE", "WICKER", "FILIGREE", "ART FLOWER", "ARTIFICIAL FLOWER", "ARTIIFCIAL FLOWER", "VASE")
        + (
            "TOADSTOOL",
            "MUSHROOM",
            "BUDDHA",
            "SHELL",
            "PORCELAIN ROSE",
            "BIRD",
            "BUTTERFLY",
            "LETTERS",
            "FLYING DUCKS",
            "CLOCHE",
        ),
    ),
)


def _pattern(keywords: Iterable[str]) -> re.Pattern[str] | None:
    keywords = sorted(keywords, key=len, reverse=True)
    if not keywords:
        return None
    alternatives = "|".join(re.escape(keyword) for keyword in keywords)
    # Letters, not digits, bound a word: truncated titles read "NECKL36" or "SET/4".
    return re.compile(rf"(?<![A-Z])(?:{alternatives})S?(?![A-Z])")


def _compile(
    rules: Iterable[tuple[str, tuple[str, ...]]], keeps: Callable[[str], bool]
) -> tuple[tuple[str, re.Pattern[str]], ...]:
    """The rules as patterns, each made of the keywords that ``keeps`` keeps."""
    compiled = ((category, _pattern(filter(keeps, keywords))) for category, keywords in rules)
    return tuple((category, pattern) for category, pattern in compiled if pattern is not None)


def _is_phrase(keyword: str) -> bool:
    return " " in keyword


_SEASONAL_RULES = [rule for rule in RULES if rule[0] in SEASONAL_CATEGORIES]
_OTHER_RULES = [rule for rule in RULES if rule[0] not in SEASONAL_CATEGORIES]
# The three passes of the module docstring.
_PASSES = (
    _compile(_SEASONAL_RULES, lambda keyword: True),
    _compile(_OTHER_RULES, _is_phrase),
    _compile(_OTHER_RULES, lambda keyword: not _is_phrase(keyword)),
)


def categorize(title: str) -> str | None:
    """The category that the rules give ``title``, or None when no keyword matches."""
    normalized = " ".join(title.upper().split())
    for rules in _PASSES:
        for category, pattern in rules:
            if pattern.search(normalized):
                return category
    return None


def assign_categories(titles: Iterable[str]) -> dict[str, str]:
    """Map each title to its category; titles no rule matches, and categories of fewer than
    ``MIN_CATEGORY_SIZE`` products (one product per title given, repeats included), get the fallback."""
    titles = list(titles)
    matched = {title: categorize(title) for title in titles}
    sizes = Counter(matched[title] for title in titles)
    return {
        title: category if category is not None and sizes[category] >= MIN_CATEGORY_SIZE else FALLBACK_CATEGORY
        for title, category in matched.items()
    }
