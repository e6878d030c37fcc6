from __future__ import annotations

from decimal import Decimal

import pytest

from ai.chat.entities import extract, extract_prices, product_terms, vocabulary

SHOP_PATTERN = r"\b[A-Z]{2}-(?:\d{6}-[0-9A-Z]{6}|C?\d{5,7})\b"
WORDS = frozenset({"lantern", "mug", "polka", "dot", "metal", "candle"})


def ents(text: str):
    return extract(text, order_number_pattern=SHOP_PATTERN, catalogue_words=WORDS)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("do you have a lantern under £10?", (None, Decimal("10"))),
        ("something below 7.50 pounds", (None, Decimal("7.50"))),
        ("mugs over £5", (Decimal("5"), None)),
        ("between £20 and £5 please", (Decimal("5"), Decimal("20"))),
        ("no more than 12,99€", (None, Decimal("12.99"))),
        ("from £3", (Decimal("3"), None)),
        ("I ordered from 3 shops", (None, None)),  # "from 3" without a currency is not a price
        ("where is my order", (None, None)),
    ],
)
def test_prices(text, expected):
    assert extract_prices(text) == expected


def test_order_numbers_emails_and_quantities():
    found = ents("Order ai-261130-bbbbbb and OR-536365 for Jane.Doe+shop@Example.co.uk, I want 3 x mugs and 12 pieces")
    assert found.order_numbers == ["AI-261130-BBBBBB", "OR-536365"]
    assert found.emails == ["jane.doe+shop@example.co.uk"]
    assert found.quantities == [3, 12]
    assert found.product_terms == ["mug"]


def test_an_email_is_not_read_as_an_order_number_or_price():
    found = ents("my email is ab-123456@example.com")
    assert found.order_numbers == [] and found.emails == ["ab-123456@example.com"]


def test_product_terms_match_the_catalogue_in_singular_and_once():
    assert product_terms("Do you sell Lanterns? a metal lantern, or candles", WORDS) == ["lantern", "metal", "candle"]
    assert product_terms("where is my order", WORDS) == []


def test_as_json_keeps_what_was_found():
    assert ents("a lantern under £10").as_json() == {"max_price": "10", "product_terms": ["lantern"]}


def test_vocabulary_comes_from_active_product_titles(catalogue):
    words = vocabulary.words()
    assert {"moroccan", "lantern", "polka", "mug", "garland"} <= words
    assert "the" not in words
    found = extract("have you got a moroccan lantern under £10 in AI-261130-BBBBBB")
    assert found.product_terms == ["moroccan", "lantern"] and found.order_numbers == ["AI-261130-BBBBBB"]
