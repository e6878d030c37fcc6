"""Latency and throughput of the merchant API's product list under concurrent keep-alive load.

    DATABASE_URL=postgres://aisle:aisle@127.0.0.1:5432/aisle_bench_api .venv/bin/python -m bench.api_bench

Migrates the database named by DATABASE_URL (use a dedicated one), loads `--products` products for a
bench merchant with a read key, starts gunicorn (2 workers, gthread so that connections are kept
alive) on a free loopback port, and drives `GET /api/v1/products/` with `--concurrency` client
processes, each holding one keep-alive connection, until `--requests` requests per scenario are
done or `--seconds` have passed. Prints p50/p95/p99 latency and requests per second per scenario,
and first the cost of one request in this process through Django's test client (no HTTP, no load).
Everything it created is deleted at the end.
"""
from __future__ import annotations

import argparse
import http.client
import multiprocessing as mp
import os
import socket
import statistics
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from shop.models import ApiKey, Category, Merchant, Product  # noqa: E402
from shop.services.api_keys import create_api_key  # noqa: E402

SLUG = "bench-api"
ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = {
    "list, default page (50)": "/api/v1/products/",
    "list, filtered + ordered": "/api/v1/products/?in_stock=true&min_price=5&ordering=-price",
    "list, search": "/api/v1/products/?search=lantern",
}


def setup(n_products: int) -> str:
    cleanup()
    merchant = Merchant.objects.create(name="Bench API", slug=SLUG)
    category, _ = Category.objects.get_or_create(parent=None, slug=SLUG, defaults={"name": "Bench API"})
    words = ["lantern", "candle", "throw", "jug", "hook", "basket", "mug", "towel"]
    Product.objects.bulk_create(
        (
            Product(merchant=merchant, category=category, title=f"Bench {words[i % len(words)]} {i}",
                    slug=f"bench-api-{i}", sku=f"API{i:07d}", price=Decimal(1 + i % 50),
                    stock=i % 7, description=f"A bench {words[i % len(words)]}.")
            for i in range(n_products)
        ),
        batch_size=2000,
    )
    _, raw_key = create_api_key(merchant, scope=ApiKey.Scope.READ, name="bench")
    return raw_key


def cleanup() -> None:
    Product.objects.filter(merchant__slug=SLUG).delete()
    Merchant.objects.filter(slug=SLUG).delete()
    Category.objects.filter(slug=SLUG, parent=None).delete()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(port: int) -> subprocess.Popen:
    env = {**os.environ, "API_THROTTLE_RATE": "100000000/min", "DEBUG": "0", "LOG_LEVEL": "WARNING"}
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi", "--workers", "2", "--worker-class", "gthread",
         "--threads", "4", "--keep-alive", "30", "--bind", f"127.0.0.1:{port}", "--log-level", "warning"],
        cwd=ROOT, env=env,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("gunicorn did not start within 30 s")


def client(args: tuple[int, str, str, int, float]) -> tuple[list[float], int]:
    """One keep-alive connection: request `path` `count` times (or until `until`); latencies in seconds."""
    port, path, raw_key, count, until = args
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Authorization": f"Bearer {raw_key}", "Accept": "application/json"}
    latencies: list[float] = []
    errors = 0
    for _ in range(count):
        if time.time() > until:
            break
        started = time.perf_counter()
        try:
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            response.read()
            ok = response.status == 200
        except (OSError, http.client.HTTPException):
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            ok = False
        latencies.append(time.perf_counter() - started)
        errors += not ok
    conn.close()
    return latencies, errors


def drive(pool, port: int, path: str, raw_key: str, concurrency: int, requests: int, seconds: float) -> dict:
    per_client = max(1, requests // concurrency)
    until = time.time() + seconds
    started = time.perf_counter()
    results = pool.map(client, [(port, path, raw_key, per_client, until)] * concurrency)
    elapsed = time.perf_counter() - started
    latencies = sorted(lat for lats, _ in results for lat in lats)
    errors = sum(err for _, err in results)

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000

    return {
        "requests": len(latencies), "errors": errors, "seconds": elapsed, "rps": len(latencies) / elapsed,
        "p50": statistics.median(latencies) * 1000, "p95": pct(0.95), "p99": pct(0.99),
    }


def in_process(raw_key: str, n: int = 100) -> float:
    """Milliseconds per product-list request through Django's test client: no HTTP, no concurrency."""
    from django.test import Client

    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    for _ in range(10):
        client.get(SCENARIOS["list, default page (50)"])
    started = time.perf_counter()
    for _ in range(n):
        assert client.get(SCENARIOS["list, default page (50)"]).status_code == 200
    return (time.perf_counter() - started) / n * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--requests", type=int, default=2_000, help="per scenario")
    parser.add_argument("--seconds", type=float, default=60.0, help="time bound per scenario")
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    print(f"database: {connection.vendor}; {os.cpu_count()} CPUs; loading {args.products} products…", flush=True)
    raw_key = setup(args.products)
    os.environ["API_THROTTLE_RATE"] = "100000000/min"
    from django.conf import settings

    settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] = {"api_key": "100000000/min"}
    print(f"in process, one request at a time: {in_process(raw_key):.1f} ms per page of 50; "
          f"load average {os.getloadavg()[0]:.1f}", flush=True)
    connection.close()
    port = free_port()
    server = start_gunicorn(port)
    try:
        with mp.get_context("fork").Pool(args.concurrency) as pool:
            for name, path in SCENARIOS.items():
                drive(pool, port, path, raw_key, args.concurrency, args.concurrency * 10, 10)  # warm up
                r = drive(pool, port, path, raw_key, args.concurrency, args.requests, args.seconds)
                print(f"{name:28s} {r['requests']:5d} requests in {r['seconds']:.1f} s = {r['rps']:.0f} req/s; "
                      f"p50 {r['p50']:.1f} ms, p95 {r['p95']:.1f} ms, p99 {r['p99']:.1f} ms; errors {r['errors']}; "
                      f"load average {os.getloadavg()[0]:.1f}", flush=True)
    finally:
        server.terminate()
        server.wait(timeout=30)
        cleanup()


if __name__ == "__main__":
    main()
