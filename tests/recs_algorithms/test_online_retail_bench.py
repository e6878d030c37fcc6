"""bench/online_retail_interactions reads the file with the demo shop's parser, so the benchmarks score
exactly the purchases `load_demo` loads."""
from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from ai.models import Event
from ai.recs.io import read_interactions
from bench.online_retail_interactions import convert, main
from shop.models import Product
from tests.demo.test_load_demo import LINES, write_extract

EXTRA = [
    # the first customer buys the lantern again later: the first purchase is what counts
    "536380,71053,WHITE METAL LANTERN,1,2011-07-01 10:00:00,3.39,17850.0,United Kingdom",
    # a code with a three-letter suffix is a product (the old bench regex dropped it)
    "536381,15056BL,EDWARDIAN PARASOL BLACK,2,2011-07-02 10:00:00,5.95,13047.0,France",
    # an adjustment invoice is not an order
    "A563185,85123A,WHITE HANGING HEART T-LIGHT HOLDER,1,2011-07-03 10:00:00,2.55,13047.0,France",
]


@pytest.fixture
def extract(tmp_path) -> str:
    return write_extract(tmp_path / "lines.csv.gz", [*LINES, *EXTRA])


def test_first_purchases_of_kept_orders_with_the_demo_titles(tmp_path, extract):
    out, items = tmp_path / "interactions.csv.gz", tmp_path / "items.csv"
    summary = convert(extract, out, items)
    assert summary == {
        "interactions": 6, "customers": 2, "products": 6, "orders": 5, "skipped cancellations": 1,
        "skipped guest line (no CustomerID)": 2,
        "skipped not a product (fee, postage, manual line)": 2, "skipped not an order (adjustment invoice)": 1,
        "skipped price not positive": 2,
    }
    data = read_interactions(out, items_path=items)
    histories = {data.user_keys[u]: [data.item_keys[i] for i in h] for u, h in enumerate(data.histories())}
    assert histories == {
        "13047": ["84879", "22745", "15056BL"],
        "17850": ["85123A", "71053", "22633"],  # 85123A again in 536366 and 71053 in 536380 count once
    }
    texts = dict(zip(data.item_keys, data.item_texts or [], strict=True))
    assert texts["15056BL"] == "Edwardian Parasol Black" and texts["22745"] == "Poppy's Playhouse Bedroom"


def test_a_limit_reads_the_first_invoices_like_load_demo(tmp_path, extract):
    summary = convert(extract, tmp_path / "i.csv.gz", tmp_path / "items.csv", limit=2)
    assert (summary["interactions"], summary["customers"], summary["orders"]) == (3, 1, 2)


def test_a_missing_or_foreign_file_is_a_readable_error(tmp_path, capsys):
    assert main(["--lines", str(tmp_path / "nope.csv.gz"), "--out", str(tmp_path / "o.csv.gz")]) == 2
    assert capsys.readouterr().err == f"error: No data file at {tmp_path / 'nope.csv.gz'}\n"
    other = tmp_path / "other.csv"
    other.write_text("a,b\n1,2\n")
    assert main(["--lines", str(other), "--out", str(tmp_path / "o.csv.gz")]) == 2
    assert "is not an Online Retail file: missing column(s) InvoiceNo, StockCode" in capsys.readouterr().err


@pytest.mark.django_db
def test_the_benchmark_interactions_are_the_demo_shops_first_purchases(tmp_path, extract, settings):
    settings.DEMO_API_KEY_FILE = tmp_path / "key.txt"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command("load_demo", "--data", extract, "--no-progress", stdout=StringIO(), stderr=StringIO())
    sku = dict(Product.objects.values_list("id", "sku"))
    first: dict[tuple[str, str], object] = {}
    for username, product_id, at in Event.objects.filter(event_type="purchase").order_by("created_at").values_list(
        "user__username", "product_id", "created_at"
    ):
        first.setdefault((username.removeprefix("customer-"), sku[product_id]), at)
    out = tmp_path / "interactions.csv.gz"
    convert(extract, out, tmp_path / "items.csv")
    data = read_interactions(out)
    bench = {
        (data.user_keys[u], data.item_keys[i]): t for u, i, t in zip(data.users, data.items, data.timestamps, strict=True)
    }
    assert set(bench) == set(first)
    assert {key: int(stamp) for key, stamp in bench.items()} == {key: int(at.timestamp()) for key, at in first.items()}
