"""The training pipeline end to end on synthetic events: how long a popularity run takes and where.

    DATABASE_URL=postgres://aisle:aisle@127.0.0.1:5432/aisle_bench_training .venv/bin/python -m bench.training_bench

Migrates the database named by DATABASE_URL (use a dedicated one), creates `--products` products (in
`--categories` categories) and `--events` events by `--shoppers` visitors (Zipf-distributed products,
views/basket additions/purchases, over 90 days), then measures
- `build_interactions()` (reading the events, mapping to dense indices),
- a whole `popularity` run in-process (`execute_run`: read, leave-last-out evaluation, fit, save, register),
- `RunContext.report()` per call (the throttled progress path every kind calls per step),
- the first `live_model()` (verified load: sha256 of the artifacts, safetensors) and a cached call.
The events, products, runs and versions it created are deleted at the end.
"""
from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from datetime import timedelta

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

import numpy as np  # noqa: E402
import torch  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from ai import registry  # noqa: E402
from ai.models import Event, ModelVersion, TrainingRun  # noqa: E402
from ai.recs.data import build_interactions  # noqa: E402
from ai.training import execute_run, start_run  # noqa: E402
from ai.training.context import RunContext  # noqa: E402

VISITOR_PREFIX = "bench-train-"


def create_data(n_products: int, n_categories: int, n_events: int, n_shoppers: int, seed: int) -> list[int]:
    from shop.models import Category, Merchant, Product

    merchant, _ = Merchant.objects.get_or_create(slug="bench-training", defaults={"name": "Bench training"})
    categories = [
        Category.objects.get_or_create(slug=f"bench-training-{i}", defaults={"name": f"Bench training {i}"})[0]
        for i in range(n_categories)
    ]
    Product.objects.bulk_create(
        [
            Product(
                merchant=merchant, category=categories[i % n_categories], title=f"Bench product {i}",
                slug=f"bench-training-product-{i}", description="A benchmark product.", sku=f"BT{i:06d}",
                price="9.99", stock=10, is_active=True,
            )
            for i in range(n_products)
        ],
        batch_size=2000,
    )
    product_ids = list(Product.objects.filter(merchant=merchant).order_by("pk").values_list("pk", flat=True))
    rng = np.random.default_rng(seed)
    ranks = np.minimum(rng.zipf(1.3, n_events) - 1, n_products - 1)
    shoppers = rng.integers(0, n_shoppers, n_events)
    types = rng.choice(["view", "view", "view", "add_to_cart", "purchase"], n_events)
    now = timezone.now()
    ages = rng.uniform(0, 90 * 86400, n_events)
    batch = []
    for rank, shopper, event_type, age in zip(ranks, shoppers, types, ages, strict=False):
        batch.append(
            Event(
                event_type=str(event_type), visitor_id=f"{VISITOR_PREFIX}{shopper}", product_id=product_ids[rank],
                created_at=now - timedelta(seconds=float(age)),
            )
        )
        if len(batch) == 10_000:
            Event.objects.bulk_create(batch)
            batch = []
    Event.objects.bulk_create(batch)
    return product_ids


def cleanup() -> None:
    from shop.models import Category, Merchant, Product

    Event.objects.filter(visitor_id__startswith=VISITOR_PREFIX).delete()
    ModelVersion.objects.filter(training_run__requested_via="bench").delete()
    TrainingRun.objects.filter(requested_via="bench").delete()
    Product.objects.filter(merchant__slug="bench-training").delete()
    Category.objects.filter(slug__startswith="bench-training-").delete()
    Merchant.objects.filter(slug="bench-training").delete()


def timed(fn):
    start = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--products", type=int, default=4000)
    parser.add_argument("--categories", type=int, default=40)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--shoppers", type=int, default=20_000)
    parser.add_argument("--reports", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    settings.MEDIA_ROOT = tempfile.mkdtemp(prefix="bench-training-")
    settings.AI_AUTO_PROMOTE_MARGIN = None
    settings.AI_REGISTRY_POLL_S = 0
    cleanup()
    try:
        _, setup_s = timed(lambda: create_data(args.products, args.categories, args.events, args.shoppers, args.seed))
        print(f"database: {connection.vendor}; {args.events} events, {args.products} products, {args.shoppers} shoppers "
              f"(set up in {setup_s:.1f} s); torch threads {torch.get_num_threads()}")

        data, build_s = timed(lambda: build_interactions())
        print(f"build_interactions: {build_s:.2f} s for {len(data.items)} interactions "
              f"({len(data.items) / build_s:,.0f} rows/s), {data.n_users} users, {data.n_items} items")

        run = start_run("popularity", {"half_life_days": 30}, via="bench", enqueue=False)
        _, run_s = timed(lambda: execute_run(run.pk))
        run.refresh_from_db()
        assert run.status == TrainingRun.Status.SUCCEEDED, run.error
        print(f"popularity run (in-process): {run_s:.2f} s wall, status {run.status}, "
              f"{len(run.loss_curve)} loss points, metrics "
              + ", ".join(f"{k} {v:.4f}" for k, v in run.metrics.items()))

        ctx_run = start_run("popularity", {}, via="bench", enqueue=False)
        ctx = RunContext(ctx_run, torch.device("cpu"))
        start = time.perf_counter()
        for step in range(args.reports):
            ctx.report(progress=100 * step / args.reports, step=step, loss=1.0 / (step + 1))
        per_report = (time.perf_counter() - start) / args.reports
        print(f"RunContext.report(): {per_report * 1e6:.0f} µs per call over {args.reports} calls "
              f"(a cancellation check at most every 50 ms, a write at most every 0.5 s)")

        version = ModelVersion.objects.get(training_run=run)
        registry.promote(version)
        registry.clear_cache()
        _, load_s = timed(lambda: registry.live_model("popularity"))
        settings.AI_REGISTRY_POLL_S = 3600
        samples = []
        for _ in range(1000):
            start = time.perf_counter()
            registry.live_model("popularity")
            samples.append(time.perf_counter() - start)
        print(f"live_model: first (verified) load {load_s * 1000:.1f} ms; cached call median "
              f"{statistics.median(samples) * 1e6:.1f} µs")
    finally:
        cleanup()


if __name__ == "__main__":
    main()
