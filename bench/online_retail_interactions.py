"""Make interactions (and item texts) from the UCI Online Retail order lines, for `ai_eval recs`.

    python -m bench.online_retail_interactions [--lines ../shared/data/online-retail/lines.csv.gz]
        [--out var/bench/online-retail-interactions.csv.gz] [--items-out var/bench/online-retail-items.csv]

One interaction per customer and product: the first time the customer bought it (the InvoiceDate, ISO).
Left out: cancellations (InvoiceNo starting with C), non-positive quantities, lines without a CustomerID
(guests), and StockCodes that are not products (POST, M, DOT, BANK CHARGES, gift vouchers, …: anything
not shaped like the catalogue's codes, five digits and an optional letter suffix). The items file holds
each product's most frequent Description as its text (for the content model).
"""
from __future__ import annotations

import argparse
import csv
import gzip
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

PRODUCT_CODE = re.compile(r"^\d{5}[A-Za-z]{0,2}$")
DEFAULT_LINES = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "online-retail" / "lines.csv.gz"


def convert(lines: Path, out: Path, items_out: Path) -> dict[str, int]:
    first: dict[tuple[str, str], str] = {}
    descriptions: dict[str, Counter] = defaultdict(Counter)
    skipped = Counter()
    with gzip.open(lines, "rt", encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            customer = (row["CustomerID"] or "").strip().removesuffix(".0")
            code = row["StockCode"].strip().upper()
            if row["InvoiceNo"].startswith("C"):
                skipped["cancellation"] += 1
            elif float(row["Quantity"]) <= 0:
                skipped["non-positive quantity"] += 1
            elif not customer:
                skipped["guest"] += 1
            elif not PRODUCT_CODE.match(code):
                skipped["not a product"] += 1
            else:
                stamp = row["InvoiceDate"].strip().replace(" ", "T")
                key = (customer, code)
                if key not in first or stamp < first[key]:
                    first[key] = stamp
                if row["Description"].strip():
                    descriptions[code][row["Description"].strip()] += 1
    out.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(out, "wt", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["user_id", "item_id", "timestamp"])
        for (customer, code), stamp in sorted(first.items(), key=lambda kv: (kv[0][0], kv[1])):
            writer.writerow([customer, code, stamp])
    items_out.parent.mkdir(parents=True, exist_ok=True)
    with open(items_out, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["item_id", "text"])
        for code in sorted(descriptions):
            writer.writerow([code, descriptions[code].most_common(1)[0][0].title()])
    return {
        "interactions": len(first),
        "customers": len({c for c, _ in first}),
        "products": len({p for _, p in first}),
        **{f"skipped {k}": v for k, v in skipped.items()},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=Path, default=DEFAULT_LINES)
    parser.add_argument("--out", type=Path, default=Path("var/bench/online-retail-interactions.csv.gz"))
    parser.add_argument("--items-out", type=Path, default=Path("var/bench/online-retail-items.csv"))
    args = parser.parse_args(argv)
    if not args.lines.exists():
        print(f"error: {args.lines}: no such file (the shared Online Retail data)", file=sys.stderr)
        return 2
    for key, value in convert(args.lines, args.out, args.items_out).items():
        print(f"{key}: {value}")
    print(f"wrote {args.out} and {args.items_out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
