"""Server-side time and SQL queries of each storefront page, on the demo shop.

    DATABASE_URL=postgres://aisle:aisle@127.0.0.1:5432/aisle_bench_storefront .venv/bin/python -m bench.storefront_pages

Migrates the database named by DATABASE_URL (use a dedicated one: the product and search pages
record behaviour events there), loads the demo shop into it (`load_demo --limit`, idempotent), then
requests each page `--requests` times through Django's test client after one warm-up request, and
prints the median and p95 time per request and the SQL queries per request. The time is the whole
Django request (middleware, view, template, the recommendation blocks), without network or a web server.
"""
from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import reverse  # noqa: E402

from shop.models import Basket, Category, Product  # noqa: E402


def measure(client: Client, url: str, n: int) -> tuple[float, float, int, int]:
    response = client.get(url)  # warm-up: the recommender's caches, the template cache
    assert response.status_code == 200, (url, response.status_code)
    times = []
    for _ in range(n):
        start = time.perf_counter()
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(url)
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, url
    times.sort()
    p95 = times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))]
    return statistics.median(times), p95, len(ctx.captured_queries), len(response.content)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--limit", type=int, default=3000, help="invoices of the demo data to load")
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    call_command("load_demo", limit=args.limit, no_progress=True, verbosity=0)
    products = Product.objects.active().in_stock()
    category = (
        Category.objects.filter(depth=0)
        .annotate(n=Count("children__products"))
        .order_by("-n", "path")
        .first()
    )
    bestseller = products.order_by("-units_sold", "pk").first()
    basket_products = list(products.order_by("-units_sold", "pk")[1:6])
    print(f"{connection.vendor}, {Product.objects.count()} products, {Category.objects.count()} categories, "
          f"{args.requests} requests per page")

    client = Client()
    for product in basket_products:
        client.post(reverse("shop:basket_add"), {"product_id": product.pk, "quantity": 1})
    pages = [
        ("home", reverse("shop:home")),
        (f"category {category.path} (24 of many)", category.get_absolute_url()),
        ("category, by price, page 2", category.get_absolute_url() + "?sort=price&page=2"),
        ("product (with 2 recommendation blocks)", bestseller.get_absolute_url()),
        ("search 'heart holder'", reverse("shop:search") + "?q=heart+holder"),
        ("basket, 5 lines", reverse("shop:basket")),
        ("checkout form, 5 lines", reverse("shop:checkout")),
    ]
    print("| Page | median ms | p95 ms | SQL queries | HTML KiB |\n|---|---|---|---|---|")
    try:
        for name, url in pages:
            median, p95, queries, size = measure(client, url, args.requests)
            print(f"| {name} | {median:.1f} | {p95:.1f} | {queries} | {size / 1024:.0f} |")
    finally:
        Basket.objects.filter(pk=client.session.get("basket_id")).delete()


if __name__ == "__main__":
    main()
