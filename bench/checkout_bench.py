"""How fast orders are placed, alone and under contention, and how fast the ai adapter streams the shop.

    DATABASE_URL=postgres://aisle:aisle@127.0.0.1:5432/aisle_bench_checkout .venv/bin/python -m bench.checkout_bench

Migrates the database named by DATABASE_URL (use a dedicated one), creates a bench merchant, then
- sequential: places `--orders` orders of 3 lines one after another (ms per `place_order`, which
  includes the locks, the stock updates, the order, its lines, the history row and emptying the basket);
- contended: `--threads` threads each place `--per-thread` orders whose baskets all hold the same two
  "hot" products (so every order waits for the previous one's row locks) plus one of their own;
- last units: `--racers` threads race for the last 5 units of one product (how many orders succeed);
- adapter: streams every product and every order line through `ShopAdapter` (rows per second).
Everything it created is deleted at the end.
"""
from __future__ import annotations

import argparse
import os
import statistics
import threading
import time
from decimal import Decimal

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from shop.ai_adapter import ShopAdapter  # noqa: E402
from shop.exceptions import InsufficientStock  # noqa: E402
from shop.models import Basket, BasketLine, Category, Merchant, Order, Product  # noqa: E402
from shop.services.checkout import ShippingAddress, place_order  # noqa: E402

SLUG = "bench-checkout"
ADDRESS = ShippingAddress(name="Bench", line1="1 Bench Road", city="Leeds", postcode="LS1 1AA", country="UK")


def setup(n_products: int) -> tuple[Merchant, list[Product]]:
    cleanup()
    merchant = Merchant.objects.create(name="Bench checkout", slug=SLUG)
    category, _ = Category.objects.get_or_create(parent=None, slug=SLUG, defaults={"name": "Bench"})
    Product.objects.bulk_create(
        Product(merchant=merchant, category=category, title=f"Bench product {i}", slug=f"bench-{i}",
                sku=f"BENCH{i:06d}", price=Decimal("3.50"), stock=1_000_000)
        for i in range(n_products)
    )
    return merchant, list(Product.objects.filter(merchant=merchant).order_by("pk"))


def make_baskets(n: int, tag: str, contents: list[list[tuple[Product, int]]]) -> list[tuple[Basket, object]]:
    User = get_user_model()
    users = User.objects.bulk_create(User(username=f"bench-{tag}-{i}", email=f"b{i}@example.com") for i in range(n))
    baskets = Basket.objects.bulk_create(Basket(user=user) for user in users)
    BasketLine.objects.bulk_create(
        BasketLine(basket=basket, product=product, quantity=quantity)
        for basket, lines in zip(baskets, contents, strict=False)
        for product, quantity in lines
    )
    return list(zip(baskets, users, strict=False))


def order(basket, user) -> None:
    place_order(basket=basket, user=user, email=user.email, address=ADDRESS,
                shipping_method="standard", payment_method="pay_on_delivery")


def bench_sequential(products: list[Product], n: int) -> dict:
    pairs = make_baskets(n, "seq", [[(products[(3 * i + k) % len(products)], 1 + k) for k in range(3)] for i in range(n)])
    timings = []
    for basket, user in pairs:
        start = time.perf_counter()
        order(basket, user)
        timings.append((time.perf_counter() - start) * 1000)
    timings.sort()
    return {"orders": n, "median_ms": statistics.median(timings), "p95_ms": timings[int(0.95 * (n - 1))]}


def run_threads(pairs_per_thread: list[list[tuple[Basket, object]]], barrier: threading.Barrier) -> dict[str, int]:
    outcomes: dict[str, int] = {}
    lock = threading.Lock()

    def worker(pairs):
        try:
            barrier.wait(timeout=60)
            for basket, user in pairs:
                try:
                    order(basket, user)
                    outcome = "ordered"
                except InsufficientStock:
                    outcome = "insufficient stock"
                except Exception as error:  # noqa: BLE001 - reported, never hidden
                    outcome = f"error {type(error).__name__}"
                with lock:
                    outcomes[outcome] = outcomes.get(outcome, 0) + 1
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(pairs,)) for pairs in pairs_per_thread]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def bench_contended(products: list[Product], threads: int, per_thread: int) -> dict:
    hot_a, hot_b, own = products[0], products[1], products[2:]
    n = threads * per_thread
    pairs = make_baskets(n, "hot", [[(own[i % len(own)], 1), (hot_b, 1), (hot_a, 2)] for i in range(n)])
    chunks = [pairs[t::threads] for t in range(threads)]
    hot_a.refresh_from_db()
    stock_before = hot_a.stock
    start = time.perf_counter()
    outcomes = run_threads(chunks, threading.Barrier(threads))
    elapsed = time.perf_counter() - start
    hot_a.refresh_from_db()
    return {"threads": threads, "orders": n, "seconds": elapsed, "orders_per_s": n / elapsed, "outcomes": outcomes,
            "hot_stock_consistent": hot_a.stock == stock_before - 2 * outcomes.get("ordered", 0)}


def bench_last_units(products: list[Product], racers: int) -> dict:
    target = products[-1]
    Product.objects.filter(pk=target.pk).update(stock=5)
    pairs = make_baskets(racers, "race", [[(target, 1)] for _ in range(racers)])
    outcomes = run_threads([[pair] for pair in pairs], threading.Barrier(racers))
    target.refresh_from_db()
    return {"racers": racers, "outcomes": outcomes, "final_stock": target.stock}


def bench_adapter() -> dict:
    adapter = ShopAdapter()
    next(adapter.iter_products())  # warm up: the first product URL imports the whole URLconf
    start = time.perf_counter()
    n_products = sum(1 for _ in adapter.iter_products())
    products_s = time.perf_counter() - start
    start = time.perf_counter()
    n_lines = sum(1 for _ in adapter.iter_order_lines())
    lines_s = time.perf_counter() - start
    return {"products": n_products, "products_per_s": n_products / products_s,
            "order_lines": n_lines, "order_lines_per_s": n_lines / lines_s}


def cleanup() -> None:
    Order.objects.filter(lines__merchant__slug=SLUG).distinct().delete()
    Order.objects.filter(user__username__startswith="bench-").delete()
    get_user_model().objects.filter(username__startswith="bench-").delete()
    Product.objects.filter(merchant__slug=SLUG).delete()
    Merchant.objects.filter(slug=SLUG).delete()
    Category.objects.filter(parent=None, slug=SLUG).delete()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--products", type=int, default=5000)
    parser.add_argument("--orders", type=int, default=300)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--per-thread", type=int, default=40)
    parser.add_argument("--racers", type=int, default=24)
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}")
    _, products = setup(args.products)
    try:
        seq = bench_sequential(products, args.orders)
        print(f"sequential: {seq['orders']} orders, median {seq['median_ms']:.1f} ms, p95 {seq['p95_ms']:.1f} ms per order")
        hot = bench_contended(products, args.threads, args.per_thread)
        print(f"contended: {hot['threads']} threads, {hot['orders']} orders on 2 shared products in {hot['seconds']:.2f} s"
              f" = {hot['orders_per_s']:.0f} orders/s; outcomes {hot['outcomes']}; stock consistent: {hot['hot_stock_consistent']}")
        race = bench_last_units(products, args.racers)
        print(f"last units: {race['racers']} racers for 5 units; outcomes {race['outcomes']}; final stock {race['final_stock']}")
        ad = bench_adapter()
        print(f"adapter: iter_products {ad['products']} rows at {ad['products_per_s']:.0f}/s;"
              f" iter_order_lines {ad['order_lines']} rows at {ad['order_lines_per_s']:.0f}/s")
    finally:
        cleanup()


if __name__ == "__main__":
    main()
