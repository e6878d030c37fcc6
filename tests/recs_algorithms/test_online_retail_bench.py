from __future__ import annotations

import gzip

from ai.recs.io import read_interactions
from bench.online_retail_interactions import convert

LINES = """InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country
536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,2010-12-01 08:26:00,2.55,17850.0,United Kingdom
536365,71053,WHITE METAL LANTERN,6,2010-12-01 08:26:00,3.39,17850.0,United Kingdom
536366,POST,POSTAGE,1,2010-12-01 08:28:00,18.00,17850.0,United Kingdom
536367,22633,HAND WARMER UNION JACK,6,2010-12-01 08:34:00,1.85,,United Kingdom
C536368,22632,HAND WARMER RED POLKA DOT,-6,2010-12-01 08:35:00,1.85,13047.0,United Kingdom
536369,71053,WHITE METAL LANTERN,2,2010-12-02 09:00:00,3.39,13047.0,United Kingdom
536370,85123A,WHITE HANGING HEART T-LIGHT HOLDER,1,2010-12-03 10:00:00,2.55,17850.0,United Kingdom
536371,22632,HAND WARMER RED POLKA DOT,0,2010-12-03 10:00:00,1.85,13047.0,United Kingdom
"""


def test_online_retail_purchases_become_first_purchase_interactions_with_texts(tmp_path):
    lines = tmp_path / "lines.csv.gz"
    with gzip.open(lines, "wt") as handle:
        handle.write(LINES)
    out, items = tmp_path / "interactions.csv.gz", tmp_path / "items.csv"
    summary = convert(lines, out, items)
    assert summary["interactions"] == 3 and summary["customers"] == 2 and summary["products"] == 2
    assert summary["skipped cancellation"] == 1 and summary["skipped guest"] == 1
    assert summary["skipped not a product"] == 1 and summary["skipped non-positive quantity"] == 1
    data = read_interactions(out, items_path=items)
    histories = {data.user_keys[u]: [data.item_keys[i] for i in h] for u, h in enumerate(data.histories())}
    assert histories == {"13047": ["71053"], "17850": ["85123A", "71053"]}  # the repeat purchase counts once
    assert "White Metal Lantern" in data.item_texts
