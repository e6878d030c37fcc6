"""Cut the demo customer's slice of the Online Retail file, for the acceptance test of "Recommended for you".

    python -m bench.recs_demo_slice [--lines ../shared/data/online-retail/lines.csv.gz]
        [--out tests/demo/data/online-retail-demo-slice.csv.gz] [--neighbours 40] [--max-lines 6000]
        [--contrast 20] [--contrast-lines 4000]

The slice holds every line of the customer the demo makes its demo customer (`shop.demo.accounts`: the most
kept orders up to 30, then the most products) and of the `--neighbours` customers whose bought products
overlap theirs most, while the slice stays under `--max-lines` order lines (fewer orders than the demo customer, so that the slice's demo customer is the same
one), and of `--contrast` customers with other tastes (of those with at least 5 orders, the ones whose
products overlap the demo customer's least), within `--contrast-lines` more lines: without them every
co-purchase in the slice leads back to the demo customer's taste, and a session of other products could
not point anywhere else. `tests/demo/test_demo_customer_recs.py` loads it with `load_demo --data` and trains the kinds on it.
"""
from __future__ import annotations

import argparse
import csv
import gzip
from collections import Counter, defaultdict
from pathlib import Path

DEFAULT_LINES = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "online-retail" / "lines.csv.gz"
DEFAULT_OUT = Path(__file__).resolve().parents[1] / "tests" / "demo" / "data" / "online-retail-demo-slice.csv.gz"


def cut(lines: Path, out: Path, neighbours: int, max_lines: int, contrast: int = 0,
        contrast_lines: int = 0) -> dict[str, object]:
    from shop.demo.accounts import DEMO_CUSTOMER_MAX_ORDERS
    from shop.demo.source import parse, read_rows

    data = parse(read_rows(lines))
    orders: Counter[str] = Counter()
    bought: dict[str, set[str]] = defaultdict(set)
    size: Counter[str] = Counter()
    for invoice in data.invoices:
        size[invoice.customer_id] += len(invoice.lines)
        if not invoice.cancelled:
            orders[invoice.customer_id] += 1
            bought[invoice.customer_id] |= {sku for sku, _, _ in invoice.lines}
    eligible = [c for c in orders if orders[c] <= DEMO_CUSTOMER_MAX_ORDERS]
    demo = min(eligible, key=lambda c: (-orders[c], -len(bought[c]), f"customer-{c}"))
    mine = bought[demo]
    others = [c for c in orders if c != demo and orders[c] < orders[demo]]
    others.sort(key=lambda c: (-len(mine & bought[c]) / len(mine | bought[c]), c))
    keep = {demo}
    total = size[demo]
    for customer in others:
        if len(keep) > neighbours:
            break
        if total + size[customer] <= max_lines:
            keep.add(customer)
            total += size[customer]
    similar = len(keep)
    budget = contrast_lines
    for customer in sorted((c for c in others if c not in keep and orders[c] >= 5),
                           key=lambda c: (len(mine & bought[c]) / len(mine | bought[c]), -orders[c], c)):
        if len(keep) - similar >= contrast:
            break
        if size[customer] <= budget:
            keep.add(customer)
            budget -= size[customer]
    kept = 0
    out.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(lines, "rt", encoding="utf-8", newline="") as source, \
            gzip.open(out, "wt", encoding="utf-8", newline="") as target:
        reader = csv.DictReader(source)
        writer = csv.DictWriter(target, fieldnames=reader.fieldnames or [], lineterminator="\n")
        writer.writeheader()
        for row in reader:
            if (row["CustomerID"] or "").strip().removesuffix(".0") in keep:
                writer.writerow(row)
                kept += 1
    return {"demo_customer": demo, "orders": orders[demo], "customers": len(keep), "contrast": len(keep) - similar,
            "lines": kept}


def main(argv: list[str] | None = None) -> None:
    import django

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=Path, default=DEFAULT_LINES)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--neighbours", type=int, default=40)
    parser.add_argument("--max-lines", type=int, default=6000)
    parser.add_argument("--contrast", type=int, default=20)
    parser.add_argument("--contrast-lines", type=int, default=4000)
    args = parser.parse_args(argv)
    import os

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    print(cut(args.lines, args.out, args.neighbours, args.max_lines, args.contrast, args.contrast_lines))


if __name__ == "__main__":
    main()
