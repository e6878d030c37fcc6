from __future__ import annotations

import pytest

from shop.demo.categories import FALLBACK, categorise
from shop.demo.source import PRODUCT_CODE, is_adjustment
from shop.demo.titles import clean_title


@pytest.mark.parametrize(
    "description, title",
    [
        ("WHITE HANGING HEART T-LIGHT HOLDER", "White Hanging Heart T-Light Holder"),
        ("RED WOOLLY HOTTIE WHITE HEART.", "Red Woolly Hottie White Heart"),
        ("POPPY'S PLAYHOUSE BEDROOM ", "Poppy's Playhouse Bedroom"),
        ("3 TIER CAKE TIN RED AND CREAM", "3 Tier Cake Tin Red and Cream"),
        ("SET/6 RED/WHITE BEAKERS W HANDLE", "Set of 6 Red/White Beakers with Handle"),
        ("S/4 PINK FLOWER CANDLES IN BOWL", "Set of 4 Pink Flower Candles in Bowl"),
        ("FOLK ART GREETING CARD,pack/12", "Folk Art Greeting Card, Pack of 12"),
        ("PAPER CRAFT , LITTLE BIRDIE", "Paper Craft, Little Birdie"),
        ("POLYESTER FILLER PAD 40x40cm", "Polyester Filler Pad 40x40cm"),
        ("60CM WHITE LED TREE", "60cm White LED Tree"),
        ("BAG 125g SWIRLY MARBLES", "Bag 125g Swirly Marbles"),
        ("ASS COL LARGE SAND FROG P'WEIGHT", "Assorted Colour Large Sand Frog Paperweight"),
        ("LETTER \"K\" BLING KEY RING", "Letter \"K\" Bling Key Ring"),
        ("50'S CHRISTMAS GIFT BAG LARGE", "50's Christmas Gift Bag Large"),
        ("A4 WALL TIDY BLUE OFFICE", "A4 Wall Tidy Blue Office"),
        ("SET OF4 TEA TOWELS", "Set of 4 Tea Towels"),
    ],
)
def test_clean_title(description, title):
    assert clean_title(description) == title


@pytest.mark.parametrize(
    "description, path",
    [
        ("WHITE HANGING HEART T-LIGHT HOLDER", ("Home", "Candles & Lighting")),
        ("CHRISTMAS TREE T-LIGHT HOLDER", ("Christmas", "Decorations")),
        ("PACK OF 72 RETROSPOT CAKE CASES", ("Kitchen", "Baking")),
        ("JUMBO BAG RED RETROSPOT", ("Bags",)),
        ("RED RETROSPOT CHARLOTTE BAG", ("Bags",)),
        ("ROUND SNACK BOXES SET OF4 WOODLAND", ("Kitchen", "Storage")),
        ("PARTY BUNTING", ("Party",)),
        ("SPACEBOY BIRTHDAY CARD", ("Stationery", "Cards & Wrap")),
        ("FELTCRAFT PRINCESS CHARLOTTE DOLL", ("Bags",)),  # first rule wins: "CHARLOTTE" reads as the bag
        ("CHILDS GARDEN TROWEL BLUE", ("Garden",)),
        ("DIAMANTE NECKLACE", ("Jewellery & Accessories", "Jewellery")),
        ("RABBIT EASTER DECORATION", ("Home", "Decorations")),
        ("SPACE FROG", FALLBACK),
    ],
)
def test_categorise(description, path):
    assert categorise(description) == path


@pytest.mark.parametrize("code, product", [("85123A", True), ("22423", True), ("15056BL", True), ("POST", False),
                                           ("M", False), ("BANK CHARGES", False), ("GIFT_0001_20", False),
                                           ("DCGSSGIRL", False), ("C2", False), ("AMAZONFEE", False)])
def test_product_codes(code, product):
    assert bool(PRODUCT_CODE.match(code)) is product


@pytest.mark.parametrize("description, adjustment", [("damaged", True), ("check", True), ("?", True), ("", True),
                                                     ("Next Day Carriage", True), ("FRENCH CARRIAGE LANTERN", False),
                                                     ("BLUE CHECK BAG W HANDLE 34X20CM", False),
                                                     ("Dr. Jam's Arouzer Stress Ball", False)])
def test_is_adjustment(description, adjustment):
    assert is_adjustment(description) is adjustment
