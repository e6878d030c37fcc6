"""A small, deterministic synthetic shop for when the real data file is absent.

It produces rows in the Online Retail CSV shape, so it goes through exactly the same loader as the
real data. The structure is there for the recommenders to find: every customer has one or two
favourite themes, and items come in pairs that are usually bought together.
"""
from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

SEED = 2026
# The file's timestamps are the shop's wall-clock time (the parser reads them as Europe/London).
YEAR_START = datetime(2025, 1, 6, 9, 0, tzinfo=ZoneInfo("Europe/London"))
COLOURS = ("RED", "BLUE")
# theme -> five items (upper-case descriptions, as in the real file) with base prices.
THEMES: dict[str, list[tuple[str, str]]] = {
    "candles": [("GLASS T-LIGHT HOLDER", "2.95"), ("PILLAR CANDLE", "4.25"), ("ZINC LANTERN", "7.95"),
                ("SCENTED CANDLE JAR", "5.45"), ("STAR STRING LIGHTS", "9.95")],
    "baking": [("3 TIER CAKE STAND", "12.75"), ("CUPCAKE CASES PACK OF 60", "1.65"), ("COOKIE CUTTER SET", "3.25"),
               ("ROUND BAKING TIN", "4.95"), ("ICING BAG SET", "2.10")],
    "christmas": [("CHRISTMAS TREE BAUBLE SET", "4.95"), ("WOODEN ADVENT CALENDAR", "14.95"), ("SANTA GIFT BAG", "1.25"),
                  ("REINDEER HANGING DECORATION", "0.85"), ("SNOWFLAKE GARLAND", "3.75")],
    "stationery": [("FLORAL NOTEBOOK A5", "2.55"), ("PENCIL SET OF 12", "1.95"), ("BIRTHDAY GREETING CARD", "0.42"),
                   ("VINTAGE ROSE GIFT WRAP", "0.65"), ("STICKER SHEET", "0.85")],
    "toys": [("WOODEN JIGSAW", "4.25"), ("SKIPPING ROPE", "1.45"), ("RAG DOLL", "6.75"),
             ("SPINNING TOP", "1.25"), ("ALPHABET BLOCKS", "8.50")],
    "garden": [("ZINC WATERING CAN", "7.95"), ("HERB POT", "2.95"), ("BIRD FEEDER", "5.95"),
               ("GARDEN TROWEL", "3.45"), ("SEED TIN", "2.45")],
}
CUSTOMERS = 40
ORDERS = 300
CANCELLED_SHARE = 0.05
FIRST_INVOICE = 700001
FIRST_CUSTOMER = 90001
FIRST_CODE = 99001


def catalogue() -> list[tuple[str, str, str, str]]:
    """(stock code, description, price, theme) for the 60 synthetic products."""
    items = []
    code = FIRST_CODE
    for theme, entries in THEMES.items():
        for colour in COLOURS:
            for description, price in entries:
                items.append((str(code), f"{colour} {description}", price, theme))
                code += 1
    return items


def rows(seed: int = SEED) -> Iterator[dict[str, str]]:
    """Invoice lines in file order (oldest first), the same for the same seed."""
    rng = random.Random(seed)
    items = catalogue()
    by_theme: dict[str, list[tuple[str, str, str, str]]] = {}
    for item in items:
        by_theme.setdefault(item[3], []).append(item)
    customers = _customers(rng)

    moments = sorted(
        YEAR_START + timedelta(days=rng.randrange(0, 355), hours=rng.randrange(0, 9), minutes=rng.randrange(0, 60))
        for _ in range(ORDERS)
    )
    invoice_number = FIRST_INVOICE
    for moment in moments:
        customer_id, favourites, _, country = rng.choices(customers, weights=[c[2] for c in customers])[0]
        theme = rng.choice(favourites)
        pool = by_theme[theme]
        anchor = rng.randrange(len(pool))
        basket = [pool[anchor]]
        partner = pool[anchor + 1 if anchor % 5 != 4 else anchor - 1]  # the next item of the same colour
        if rng.random() < 0.75:
            basket.append(partner)
        for _ in range(rng.randrange(0, 3)):
            basket.append(rng.choice(pool))
        if rng.random() < 0.2:
            basket.append(rng.choice(items))
        lines = _lines(rng, basket)
        stamp = moment.strftime("%Y-%m-%d %H:%M:%S")
        number = str(invoice_number)
        invoice_number += 1
        for code, description, quantity, price in lines:
            yield _row(number, code, description, quantity, stamp, price, customer_id, country)
        if rng.random() < 0.3:
            yield _row(number, "POST", "POSTAGE", 1, stamp, "18.00", customer_id, country)
        if rng.random() < CANCELLED_SHARE:
            later = (moment + timedelta(hours=rng.randrange(1, 48))).strftime("%Y-%m-%d %H:%M:%S")
            for code, description, quantity, price in lines:
                yield _row(f"C{number}", code, description, -quantity, later, price, customer_id, country)


def _customers(rng: random.Random) -> list[tuple[str, list[str], int, str]]:
    """(customer id, favourite themes, how often they order, country) for each synthetic customer."""
    themes = list(THEMES)
    customers = []
    for index in range(CUSTOMERS):
        favourites = rng.sample(themes, k=rng.choice((1, 2)))
        weight = rng.choice((1, 1, 2, 3, 6))  # a few customers order far more often than most
        country = "United Kingdom" if rng.random() < 0.8 else rng.choice(("France", "Germany", "EIRE", "Spain"))
        customers.append((str(FIRST_CUSTOMER + index), favourites, weight, country))
    return customers


def _lines(rng: random.Random, basket: list[tuple[str, str, str, str]]) -> list[tuple[str, str, int, str]]:
    """(code, description, quantity, price) once per distinct item of the basket, in basket order."""
    seen: set[str] = set()
    lines = []
    for code, description, price, _theme in basket:
        if code not in seen:
            seen.add(code)
            lines.append((code, description, rng.choice((1, 2, 3, 4, 6, 12)), price))
    return lines


def _row(invoice, code, description, quantity, stamp, price, customer_id, country) -> dict[str, str]:
    return {
        "InvoiceNo": invoice, "StockCode": code, "Description": description, "Quantity": str(quantity),
        "InvoiceDate": stamp, "UnitPrice": price, "CustomerID": f"{customer_id}.0", "Country": country,
    }
