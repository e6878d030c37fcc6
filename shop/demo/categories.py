"""The demo category tree and the keyword rules that place a product in it.

Rules are read top to bottom and the first match wins, so the specific themes (Christmas, party)
come before the generic object words (bag, mug, sign). A product that matches nothing lands in
"Other gifts". Keywords are matched as whole words against the upper-case stock description.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

# (category path from the root, keywords). A path of two names is a sub-category.
CATEGORY_RULES: list[tuple[tuple[str, ...], tuple[str, ...]]] = [
    (("Christmas", "Decorations"), ("CHRISTMAS TREE", "BAUBLE", "TINSEL", "WREATH", "ADVENT", "STAR TREE", "ICICLE", "NATIVITY", "SNOWFLAKE", "SNOW FLAKE")),
    (("Christmas", "Gifts & Wrap"), ("CHRISTMAS", "XMAS", "SANTA", "REINDEER", "SNOWMAN", "FATHER CHRISTMAS", "ELF", "ROBIN")),
    (("Home", "Decorations"), ("EASTER",)),
    (("Home", "Candles & Lighting"), ("T-LIGHT", "T-LIGHTS", "TEA LIGHT", "TEALIGHT", "CANDLE", "CANDLES", "LANTERN", "LAMP", "LAMPSHADE", "LIGHTS", "LIGHT", "LED", "CANDLEHOLDER", "CHANDELIER", "INCENSE", "NIGHTLIGHT", "CANDLESTICK")),
    (("Kitchen", "Baking"), ("CAKE", "CAKES", "BAKING", "CUPCAKE", "CAKESTAND", "MUFFIN", "PASTRY", "BISCUIT", "COOKIE", "ICING", "JELLY MOULD", "CUTTERS", "CAKE CASES")),
    (("Kitchen", "Storage"), ("TIN", "TINS", "JAR", "JARS", "LUNCH BOX", "LUNCHBOX", "CANISTER", "RECIPE BOX", "BREAD BIN", "STORAGE", "SNACK BOXES", "FOOD CONTAINER")),
    (("Kitchen", "Tableware"), ("MUG", "MUGS", "CUP", "CUPS", "SAUCER", "PLATE", "PLATES", "BOWL", "BOWLS", "TEAPOT", "JUG", "BEAKER", "BEAKERS", "TUMBLER", "CUTLERY", "TEASPOONS", "SPOON", "FORK", "NAPKINS", "COASTER", "COASTERS", "PLACEMAT", "PLACEMATS", "EGG CUP", "TRAY", "STRAWS", "BOTTLE", "GLASS", "CHOPSTICKS", "PLATTER", "TOASTRACK", "BUTTER DISH", "JAMPOT", "DOILIES", "PAN", "BREAKFAST SET", "POPCORN HOLDER")),
    (("Kitchen", "Linens"), ("APRON", "TEA TOWEL", "TEA TOWELS", "OVEN GLOVE", "DISHCLOTH", "TEA COSY", "EGG COSY", "MUG COSY")),
    (("Party",), ("PARTY", "BUNTING", "BALLOON", "BALLOONS", "PAPER CHAIN", "CONFETTI", "CRACKERS", "PARASOLS", "PAPER PLATES", "PAPER CUPS", "PICNIC")),
    (("Bags",), ("BAG", "BAGS", "SHOPPER", "TOTE", "CHARLOTTE", "JUMBO", "WASHBAG", "RUCKSACK", "BACKPACK", "PURSE", "HANDBAG", "LUGGAGE")),
    (("Stationery", "Cards & Wrap"), ("CARD", "CARDS", "WRAP", "WRAPPING", "GIFT TAG", "GIFT TAGS", "ENVELOPE", "ENVELOPES", "RIBBON", "RIBBONS", "TISSUE", "TISSUES", "POSTCARD", "POSTCARDS")),
    (("Stationery", "Desk"), ("NOTEBOOK", "PENCIL", "PENCILS", "PEN", "PENS", "ERASER", "RUBBER", "STICKER", "STICKERS", "NOTE", "NOTES", "DIARY", "JOURNAL", "CALENDAR", "ADDRESS BOOK", "STAMP", "STAMPS", "RULER", "SHARPENER", "MEMO", "BOOKMARK", "PAPER", "CLIPBOARD", "FILE", "WALL TIDY", "SKETCHBOOK", "EXERCISE BOOKS", "STATIONERY", "BLACKBOARD", "BLACK BOARD", "SLATE")),
    (("Toys & Games",), ("TOY", "TOYS", "DOLL", "DOLLS", "GAME", "GAMES", "JIGSAW", "PUZZLE", "SKIPPING ROPE", "PLAYHOUSE", "BLOCKS", "DOMINOES", "MARBLES", "SOLDIER", "TEDDY", "SPACEBOY", "PAINT SET", "CRAYONS", "COLOURING", "KIT", "SPINNING TOP", "YO-YO", "BINGO", "CHALK", "RABBIT", "BUNNY", "KNITTING", "SEWING", "FELTCRAFT", "DOLLCRAFT", "PUPPET", "DINOSAUR", "BUILDING BLOCK", "PAINT YOUR OWN")),
    (("Garden",), ("GARDEN", "PLANT", "PLANTER", "POT", "POTS", "WATERING CAN", "BIRD", "BIRDHOUSE", "BIRD FEEDER", "HERB", "HERBS", "SEED", "SEEDS", "TROWEL", "GNOME", "GREENHOUSE", "WINDMILL", "HEN HOUSE", "CHICKS", "HAMMOCK", "WINDCHIME")),
    (("Jewellery & Accessories", "Jewellery"), ("NECKLACE", "NECKL", "BRACELET", "EARRINGS", "RING", "BROOCH", "PENDANT", "JEWEL", "JEWELLERY", "CHARM", "DIAMANTE", "BEADS", "BEAD", "BANGLE", "TIARA")),
    (("Jewellery & Accessories", "Accessories"), ("HAIR", "HAIRCLIP", "HAIRCLIPS", "HAIRBAND", "UMBRELLA", "SCARF", "GLOVES", "HAND WARMER", "KEY RING", "KEYRING", "KEY-CHAINS", "COMPACT MIRROR", "SUNGLASSES", "PASSPORT COVER", "WALLET", "RAIN MAC")),
    (("Home", "Bath"), ("BATH", "SOAP", "SPONGE", "TOWEL", "TOWELS", "TOOTHBRUSH", "TOILET", "SHOWER", "BATHROOM")),
    (("Home", "Decorations"), ("HANGING", "HEART", "HEARTS", "DECORATION", "ORNAMENT", "GARLAND", "SIGN", "PLAQUE", "FRAME", "CLOCK", "MIRROR", "VASE", "DOORSTOP", "DOORMAT", "CUSHION", "CUSHION COVER", "COAT HANGER", "HOOK", "HOOKS", "THROW", "BLANKET", "HOT WATER BOTTLE", "SHELF", "DRAWER", "DRAWERS", "CABINET", "CHALKBOARD", "BOX", "BASKET", "WICKER", "FLAG", "BELL", "TILE", "LETTER", "MOBILE", "CHIME", "BUTTERFLY", "FLOWER", "FLOWERS", "ROSE", "MAGNET", "MAGNETS", "EASTER", "WALL ART", "PRINT", "CURTAIN", "STOOL", "MAGAZINE RACK", "WASTEPAPER BIN", "PAPERWEIGHT")),
]
FALLBACK: tuple[str, ...] = ("Other gifts",)


@dataclass(frozen=True)
class CategoryRule:
    path: tuple[str, ...]
    pattern: re.Pattern


def _compile(keywords: tuple[str, ...]) -> re.Pattern:
    alternatives = "|".join(re.escape(word) for word in sorted(keywords, key=len, reverse=True))
    return re.compile(rf"(?<![A-Z0-9])(?:{alternatives})(?![A-Z0-9])")


RULES: list[CategoryRule] = [CategoryRule(path, _compile(keywords)) for path, keywords in CATEGORY_RULES]


def categorise(description: str) -> tuple[str, ...]:
    """The category path (root first) for an upper-case stock description."""
    text = description.upper()
    for rule in RULES:
        if rule.pattern.search(text):
            return rule.path
    return FALLBACK


def all_paths() -> list[tuple[str, ...]]:
    """Every category path the rules can produce, parents included, parents first."""
    seen: list[tuple[str, ...]] = []
    for path in [rule.path for rule in RULES] + [FALLBACK]:
        for depth in range(1, len(path) + 1):
            prefix = path[:depth]
            if prefix not in seen:
                seen.append(prefix)
    return seen
