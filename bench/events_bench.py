"""How fast behaviour events are stored: the batch API, and the server-side `ai.tracking.record()` call.

    DATABASE_URL=postgres://aisle:aisle@127.0.0.1:5432/aisle_bench_events .venv/bin/python -m bench.events_bench

Migrates the database named by DATABASE_URL (use a dedicated one), creates a few products, then
- posts `--batches` batches of `--batch-size` events to POST /api/v1/events/ through Django's test client
  (so the figure includes JSON parsing, validation, the reference checks and the INSERTs, but no network);
- calls `record()` `--calls` times with a tracked visitor (one INSERT in its own transaction each; on
  PostgreSQL also with AI_TRACKING_ASYNC_COMMIT=False), and with an opted-out one (the no-op path),
  reporting µs per call; and times VisitorMiddleware alone per request.
- runs `backfill_purchase_events()` over `--backfill-lines` synthetic order lines (an in-memory adapter, so
  this times the write side: the order-id scan, building events, bulk_create in batches), then again to
  show the idempotent re-run.
The events it created are deleted at the end.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.auth.models import AnonymousUser  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client, RequestFactory  # noqa: E402

from ai import tracking  # noqa: E402
from ai.adapter import BaseShopAdapter, OrderLineInfo  # noqa: E402
from ai.models import Event  # noqa: E402

BENCH_PREFIX = "bench-"


def setup_data(n_products: int) -> tuple[list[int], Client]:
    from shop.models import Product
    from tests.factories import ProductFactory

    existing = list(Product.objects.values_list("pk", flat=True)[:n_products])
    while len(existing) < n_products:
        existing.append(ProductFactory().pk)
    User = get_user_model()
    staff, _ = User.objects.get_or_create(username="bench-staff", defaults={"is_staff": True, "is_superuser": True})
    client = Client()
    client.force_login(staff)
    return existing, client


def bench_batches(client: Client, product_ids: list[int], batches: int, batch_size: int) -> dict:
    timings = []
    stored = 0
    for b in range(batches):
        events = [
            {
                "event_type": ("view", "add_to_cart", "search")[i % 3],
                "visitor_id": f"{BENCH_PREFIX}{b}-{i % 50}",
                "product_id": product_ids[(b * batch_size + i) % len(product_ids)],
                "query": "tea" if i % 3 == 2 else "",
            }
            for i in range(batch_size)
        ]
        body = json.dumps({"events": events})
        started = time.perf_counter()
        response = client.post("/api/v1/events/", body, content_type="application/json")
        timings.append(time.perf_counter() - started)
        if response.status_code != 201:
            raise SystemExit(f"batch {b} failed: {response.status_code} {response.content[:500]!r}")
        stored += response.json()["stored"]
    total = sum(timings)
    return {
        "events": stored,
        "seconds": total,
        "events_per_s": stored / total,
        "median_batch_ms": statistics.median(timings) * 1000,
    }


def bench_record(calls: int, product_ids: list[int], *, tracked: bool) -> dict:
    request = RequestFactory().get("/p/")
    request.user = AnonymousUser()
    request.visitor_id = f"{BENCH_PREFIX}{uuid.uuid4().hex[:20]}"
    request.ai_tracking = tracked
    before = Event.objects.filter(visitor_id=request.visitor_id).count()
    started = time.perf_counter()
    for i in range(calls):
        tracking.record(request, "view", product_id=product_ids[i % len(product_ids)])
    elapsed = time.perf_counter() - started
    stored = Event.objects.filter(visitor_id=request.visitor_id).count() - before
    if stored != (calls if tracked else 0):
        raise SystemExit(f"record() stored {stored} of {calls} events")
    return {"calls": calls, "seconds": elapsed, "calls_per_s": calls / elapsed, "us_per_call": elapsed / calls * 1e6}


BACKFILL_EPOCH = datetime(1999, 1, 1, tzinfo=UTC)  # marks the bench's synthetic orders


class SyntheticOrdersAdapter(BaseShopAdapter):
    """Order lines made up in memory (5 per order, one order a minute), to time the backfill's write side."""

    lines = 0

    def iter_order_lines(self, since=None, until=None):
        for i in range(self.lines):
            order = i // 5
            yield OrderLineInfo(
                order_id=10**12 + order, user_id=None, product_id=1 + i % 500, quantity=1 + i % 3,
                unit_price=Decimal("2.95"), placed_at=BACKFILL_EPOCH + timedelta(minutes=order),
            )


def bench_backfill(lines: int) -> dict:
    from django.test import override_settings

    SyntheticOrdersAdapter.lines = lines
    with override_settings(AI_SHOP_ADAPTER=f"{__name__}.SyntheticOrdersAdapter"):
        started = time.perf_counter()
        created = tracking.backfill_purchase_events(progress=False)
        first = time.perf_counter() - started
        started = time.perf_counter()
        again = tracking.backfill_purchase_events(progress=False)
        second = time.perf_counter() - started
    if (created, again) != (lines, 0):
        raise SystemExit(f"backfill created {created} then {again} events from {lines} lines")
    Event.objects.filter(event_type="purchase", created_at__lt=BACKFILL_EPOCH + timedelta(days=3650)).delete()
    return {"lines": lines, "seconds": first, "events_per_s": lines / first, "rerun_seconds": second}


def bench_middleware(calls: int) -> float:
    """µs per request that VisitorMiddleware adds (cookie check, opt-out check, visitor id), view excluded."""
    from django.http import HttpResponse

    from ai.middleware import VisitorMiddleware

    response = HttpResponse()
    middleware = VisitorMiddleware(lambda request: response)
    requests = []
    for i in range(calls):
        request = RequestFactory().get("/")
        if i % 2:
            request.COOKIES["aisle_vid"] = uuid.uuid4().hex  # half returning visitors, half new ones
        requests.append(request)
    started = time.perf_counter()
    for request in requests:
        middleware(request)
    return (time.perf_counter() - started) / calls * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batches", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--calls", type=int, default=5000)
    parser.add_argument("--products", type=int, default=200)
    parser.add_argument("--backfill-lines", type=int, default=100_000, help="0 skips the backfill benchmark")
    parser.add_argument("--keep", action="store_true", help="keep the events it created")
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    product_ids, client = setup_data(args.products)
    db = f"{connection.vendor} {connection.settings_dict.get('NAME')}"
    print(f"database: {db}")

    client.post("/api/v1/events/", json.dumps({"events": [{"event_type": "view", "visitor_id": "bench-warm"}]}),
                content_type="application/json")  # warm-up (imports, first connection)
    batch = bench_batches(client, product_ids, args.batches, args.batch_size)
    print(
        f"batch API: {batch['events']} events in {args.batches} batches of {args.batch_size}: "
        f"{batch['events_per_s']:,.0f} events/s (median batch {batch['median_batch_ms']:.0f} ms)"
    )
    tracked = bench_record(args.calls, product_ids, tracked=True)
    print(
        f"record(): {tracked['calls']} calls: {tracked['calls_per_s']:,.0f} events/s, "
        f"{tracked['us_per_call']:.0f} µs per call"
    )
    if connection.vendor == "postgresql":
        from django.test import override_settings

        with override_settings(AI_TRACKING_ASYNC_COMMIT=False):
            durable = bench_record(max(args.calls // 5, 1), product_ids, tracked=True)
        print(
            f"record() with AI_TRACKING_ASYNC_COMMIT=False (waits for the WAL fsync): {durable['calls_per_s']:,.0f} "
            f"events/s, {durable['us_per_call']:.0f} µs per call"
        )
    opted_out = bench_record(args.calls, product_ids, tracked=False)
    print(f"record() for an opted-out visitor: {opted_out['us_per_call']:.1f} µs per call (stores nothing)")
    print(f"VisitorMiddleware: {bench_middleware(args.calls):.1f} µs per request")

    if args.backfill_lines:
        backfill = bench_backfill(args.backfill_lines)
        print(
            f"backfill_purchase_events(): {backfill['lines']:,} order lines in {backfill['seconds']:.1f} s "
            f"({backfill['events_per_s']:,.0f} events/s); the idempotent re-run took {backfill['rerun_seconds']:.1f} s"
        )

    if not args.keep:
        deleted, _ = Event.objects.filter(visitor_id__startswith=BENCH_PREFIX).delete()
        print(f"cleaned up {deleted} events")


if __name__ == "__main__":
    main()
