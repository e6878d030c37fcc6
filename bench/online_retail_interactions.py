"""Make interactions (and item texts) from the UCI Online Retail order lines, for `ai_eval recs`.

    python -m bench.online_retail_interactions [--lines ../shared/data/online-retail/lines.csv.gz]
        [--out var/bench/online-retail-interactions.csv.gz] [--items-out var/bench/online-retail-items.csv]
        [--limit N]

The file is read by the demo shop's own parser (`shop.demo.source.parse`, what `load_demo` loads), so the
benchmarks score the orders the demo shop holds: the same product codes, the same filters (adjustment
invoices, fees and postage, stock notes, non-positive prices, quantities that do not match the invoice),
and the same guests left out. One interaction per customer and product: the first time the customer
bought it in a kept (not cancelled) order, at the invoice's time (ISO 8601 with the shop's UTC offset).
The items file holds each product's demo-shop title (`shop.demo.titles.clean_title` of its most frequent
description) as its text, for the content model.
"""
from __future__ import annotations

import argparse
import csv
import gzip
import sys
from collections import Counter
from datetime import datetime
from pathlib import Path

from shop.demo.source import SourceData, SourceError, parse, read_rows
from shop.demo.titles import clean_title

DEFAULT_LINES = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "online-retail" / "lines.csv.gz"


def first_purchases(data: SourceData) -> dict[tuple[str, str], datetime]:
    """(customer, product code) -> when the customer first bought it, over the kept orders."""
    first: dict[tuple[str, str], datetime] = {}
    for invoice in data.invoices:  # oldest first
        if invoice.cancelled:
            continue
        for sku, _quantity, _price in invoice.lines:
            first.setdefault((invoice.customer_id, sku), invoice.placed_at)
    return first


def convert(lines: Path, out: Path, items_out: Path, *, limit: int | None = None) -> dict[str, int]:
    data = parse(read_rows(lines), limit=limit)
    first = first_purchases(data)
    out.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(out, "wt", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["user_id", "item_id", "timestamp"])
        for (customer, code), placed_at in sorted(first.items(), key=lambda kv: (kv[0][0], kv[1])):
            writer.writerow([customer, code, placed_at.isoformat()])
    bought = sorted({code for _, code in first})
    items_out.parent.mkdir(parents=True, exist_ok=True)
    with open(items_out, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["item_id", "text"])
        for code in bought:
            writer.writerow([code, clean_title(data.products[code].description) or code])
    cancelled = Counter(invoice.cancelled for invoice in data.invoices)
    return {
        "interactions": len(first),
        "customers": len({customer for customer, _ in first}),
        "products": len(bought),
        "orders": cancelled[False],
        "skipped cancellations": cancelled[True],
        **{f"skipped {reason}": count for reason, count in sorted(data.skipped.items())},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=Path, default=DEFAULT_LINES)
    parser.add_argument("--out", type=Path, default=Path("var/bench/online-retail-interactions.csv.gz"))
    parser.add_argument("--items-out", type=Path, default=Path("var/bench/online-retail-items.csv"))
    parser.add_argument("--limit", type=int, default=None, help="only the first N invoices (as load_demo --limit)")
    args = parser.parse_args(argv)
    try:
        summary = convert(args.lines, args.out, args.items_out, limit=args.limit)
    except SourceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for key, value in summary.items():
        print(f"{key}: {value}")
    print(f"wrote {args.out} and {args.items_out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
