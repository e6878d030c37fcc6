"""Latency of the recommendation call (`ai.recs.service.recommend`), in-process and warmed.

    .venv/bin/python -m bench.recs_serving                      # 4,000 and 100,000 products
    .venv/bin/python -m bench.recs_serving --sizes 4000 --calls 300
    DATABASE_URL=sqlite:////tmp/demo.sqlite3 .venv/bin/python -m bench.recs_serving --http   # after make demo

For each catalogue size it builds a shop in a scratch database (a SQLite file in a temporary directory
unless DATABASE_URL is set: then use a dedicated database, everything in it is replaced): products in 50
categories, and shoppers whose views and purchases follow a Zipf popularity. It then registers and
promotes one version of every kind through the registry, so that serving goes exactly the production
path (live version lookup, sha256-verified load, in-process caches):
- popularity and co-occurrence fitted on those events;
- SASRec (default size: 2 layers, 64 wide, 50 items of history) and content (384-d embeddings, the
  size all-MiniLM-L6-v2 gives, with their 64 nearest neighbours per product precomputed as the content
  kind does at training time) with initialised, untrained weights: their serving cost does not depend
  on the values of the weights, and training them on 100,000 synthetic products would measure nothing.
Each placement is then called `--calls` times (after `--warmup` calls) for random shoppers with a
history and random viewed products. Every call is timed twice: wall clock (perf_counter) and the CPU
time of the calling thread (thread_time), which leaves out the time spent waiting for a core on a busy
machine. Both include the shopper's history query, the business rules and the `get_products` query.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import timedelta

_scratch = None
if "DATABASE_URL" not in os.environ:
    _scratch = tempfile.TemporaryDirectory(prefix="bench-recs-")
    os.environ["DATABASE_URL"] = f"sqlite:///{_scratch.name}/bench.sqlite3"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

import numpy as np  # noqa: E402
import torch  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.utils import timezone  # noqa: E402

from ai import registry  # noqa: E402
from ai.kinds import TrainedModel  # noqa: E402
from ai.kinds.recs import (  # noqa: E402
    ITEM_VECTORS_KEY,
    NEIGHBOUR_SCORES_KEY,
    NEIGHBOURS_KEY,
    ContentKind,
    CoOccurrenceKind,
    embedding_neighbours,
)
from ai.models import Event, ModelVersion, TrainingRun  # noqa: E402
from ai.recs import service  # noqa: E402
from ai.recs.algorithms.content import ContentSimilarity  # noqa: E402
from ai.recs.algorithms.cooccurrence import CoOccurrence  # noqa: E402
from ai.recs.algorithms.popularity import Popularity  # noqa: E402
from ai.recs.algorithms.sasrec import SASRec  # noqa: E402
from ai.recs.data import build_interactions  # noqa: E402
from ai.recs.metrics import item_space  # noqa: E402
from shop.models import Category, Merchant, Product  # noqa: E402

PLACEMENTS = ("home", "product_also_bought", "product_similar", "basket", "confirmation")
N_CATEGORIES = 50


def build_shop(n_products: int, n_shoppers: int, per_shopper: int, seed: int = 0) -> list[int]:
    Event.objects.all().delete()
    ModelVersion.objects.all().delete()
    TrainingRun.objects.all().delete()
    Product.objects.all().delete()
    Category.objects.filter(slug__startswith="bench-recs-").delete()
    merchant, _ = Merchant.objects.get_or_create(slug="bench-recs", defaults={"name": "Bench recs"})
    categories = [
        Category.objects.get_or_create(parent=None, slug=f"bench-recs-{c}", defaults={"name": f"Category {c}"})[0]
        for c in range(N_CATEGORIES)
    ]
    Product.objects.bulk_create(
        (
            Product(
                merchant=merchant, category=categories[i % N_CATEGORIES], title=f"Product {i}", slug=f"p-{i}",
                sku=f"BR{i:07d}", price="4.20", stock=100, description=f"Bench product number {i}.",
            )
            for i in range(n_products)
        ),
        batch_size=5000,
    )
    ids = list(Product.objects.order_by("pk").values_list("pk", flat=True))
    rng = np.random.default_rng(seed)
    # Zipf-like popularity: rank r drawn with probability ~ 1 / (r + 10).
    weights = 1.0 / (np.arange(n_products) + 10.0)
    weights /= weights.sum()
    picks = rng.choice(n_products, size=(n_shoppers, per_shopper), p=weights)
    types = rng.choice(["view", "view", "view", "add_to_cart", "purchase"], size=(n_shoppers, per_shopper))
    start = timezone.now() - timedelta(days=60)
    events = (
        Event(
            event_type=str(types[s, n]), visitor_id=f"bench-{s}", product_id=ids[picks[s, n]],
            created_at=start + timedelta(hours=int(s % 1000), minutes=5 * n),
        )
        for s in range(n_shoppers)
        for n in range(per_shopper)
    )
    Event.objects.bulk_create(events, batch_size=5000)
    return ids


def register(kind: str, algorithm, item_keys, wrapped: bool = True, extra_tensors=None) -> ModelVersion:
    tensors, config = algorithm.to_state()
    tensors.update(extra_tensors or {})
    if wrapped:
        config = {"algorithm": config, "item_keys": [int(k) for k in item_keys], "options": {}}
    version = registry.register_version(kind, TrainedModel(tensors=tensors, config=config, metrics={}))
    return registry.promote(version)


def train_models(ids: list[int]) -> dict[str, float]:
    timings = {}
    started = time.perf_counter()
    data = build_interactions()
    timings["read events"] = time.perf_counter() - started

    started = time.perf_counter()
    register("popularity", Popularity().fit(data), data.item_keys, wrapped=False)
    timings["popularity fit"] = time.perf_counter() - started

    started = time.perf_counter()
    # With the diversity item space the co-occurrence kind stores (serving re-ranks "home" with it).
    space = item_space(data.users, data.items, data.n_users, data.n_items, dims=CoOccurrenceKind.item_space_dims)
    register("cooccurrence", CoOccurrence(recency=0.9).fit(data), data.item_keys,
             extra_tensors={ITEM_VECTORS_KEY: torch.from_numpy(np.ascontiguousarray(space))})
    timings["cooccurrence fit"] = time.perf_counter() - started

    # Untrained SASRec of the default size over every product.
    sasrec = SASRec(device="cpu")
    sasrec.n_items = len(ids)
    sasrec.net = sasrec._new_net().eval()
    register("sasrec", sasrec, ids)

    content = ContentSimilarity(device="cpu")
    generator = torch.Generator().manual_seed(0)
    content.embeddings = torch.nn.functional.normalize(torch.randn(len(ids), 384, generator=generator), dim=1)
    started = time.perf_counter()
    neighbours, scores = embedding_neighbours(content.embeddings, ContentKind.precompute_neighbours)
    timings["content neighbours"] = time.perf_counter() - started
    register("content", content, ids, extra_tensors={NEIGHBOURS_KEY: neighbours, NEIGHBOUR_SCORES_KEY: scores})
    return timings


def measure(ids: list[int], n_shoppers: int, calls: int, warmup: int, seed: int = 1):
    """Wall-clock and CPU (thread) milliseconds of every measured call, per placement."""
    rng = np.random.default_rng(seed)
    registry.clear_cache()
    service.reset_caches()
    results: dict[str, list[float]] = {}
    cpu_results: dict[str, list[float]] = {}
    for placement in PLACEMENTS:
        times, cpu_times = [], []
        for n in range(warmup + calls):
            visitor = f"bench-{int(rng.integers(n_shoppers))}"
            product = int(ids[int(rng.integers(len(ids)))])
            basket = [int(ids[int(i)]) for i in rng.integers(len(ids), size=2)]
            kwargs = {"placement": placement, "visitor_id": visitor}
            if placement.startswith("product_"):
                kwargs["product_id"] = product
            if placement in ("basket", "confirmation"):
                kwargs["basket_product_ids"] = basket
            started, cpu_started = time.perf_counter(), time.thread_time()
            recs = service.recommend(**kwargs)
            elapsed = (time.perf_counter() - started) * 1000
            cpu = (time.thread_time() - cpu_started) * 1000
            if n >= warmup:
                times.append(elapsed)
                cpu_times.append(cpu)
            assert recs.items, f"empty list for {placement}"
        results[placement] = times
        cpu_results[placement] = cpu_times
    return results, cpu_results


def http_client(args: tuple[int, list[str], float]) -> tuple[list[float], int]:
    """One keep-alive connection requesting these pages in turn until `until`; latencies in seconds."""
    import http.client

    port, paths, until = args
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    latencies, errors, n = [], 0, 0
    while time.time() < until:
        path = paths[n % len(paths)]
        n += 1
        started = time.perf_counter()
        try:
            conn.request("GET", path)
            response = conn.getresponse()
            body = response.read()
            ok = response.status == 200 and b"data-rec-list" in body
        except (OSError, http.client.HTTPException):
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            ok = False
        latencies.append(time.perf_counter() - started)
        errors += not ok
    conn.close()
    return latencies, errors


def http_bench(seconds: float, concurrency: int) -> None:
    """Product pages (with their recommendation blocks) under gunicorn, 2 workers, on loopback, against
    the shop and the models already in DATABASE_URL / MEDIA_ROOT (the demo shop after `make demo`)."""
    import multiprocessing as mp

    from django.db import connection

    from bench.api_bench import free_port, start_gunicorn

    products = list(Product.objects.filter(is_active=True, stock__gt=0).order_by("-units_sold")[:200])
    if not products:
        raise SystemExit("no products: run `make demo` (or load_demo and ai_train all) on DATABASE_URL first")
    live = sorted(ModelVersion.objects.filter(status="live").values_list("kind", flat=True))
    paths = [product.get_absolute_url() for product in products]
    connection.close()
    port = free_port()
    server = start_gunicorn(port)
    try:
        with mp.get_context("fork").Pool(concurrency) as pool:
            pool.map(http_client, [(port, paths[:20], time.time() + 5)] * concurrency)  # warm up
            started = time.perf_counter()
            results = pool.map(http_client, [(port, paths, time.time() + seconds)] * concurrency)
            elapsed = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(timeout=30)
    latencies = [lat * 1000 for lats, _ in results for lat in lats]
    errors = sum(err for _, err in results)
    print(f"product pages of the {len(paths)} best sellers, live models: {', '.join(live) or 'none'}; "
          f"gunicorn 2 workers (gthread, 4 threads), {concurrency} keep-alive clients, {seconds:.0f} s")
    print(f"{len(latencies)} requests in {elapsed:.1f} s = {len(latencies) / elapsed:.1f} req/s; "
          f"p50 {percentile(latencies, 50):.1f} ms, p95 {percentile(latencies, 95):.1f} ms; "
          f"errors (not 200 or no recommendation block) {errors}; load average {os.getloadavg()[0]:.1f}")


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="4000,100000", help="catalogue sizes, comma-separated")
    parser.add_argument("--calls", type=int, default=500, help="measured calls per placement")
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--per-shopper", type=int, default=12)
    parser.add_argument("--http", action="store_true", help="product pages under gunicorn (needs a demo shop)")
    parser.add_argument("--seconds", type=float, default=30.0, help="--http: how long")
    parser.add_argument("--concurrency", type=int, default=4, help="--http: clients")
    args = parser.parse_args(argv)
    if args.http:
        if _scratch is not None:
            raise SystemExit("--http measures an existing shop: set DATABASE_URL (and MEDIA_ROOT) to the demo's")
        http_bench(args.seconds, args.concurrency)
        return 0

    media = tempfile.TemporaryDirectory(prefix="bench-recs-media-")
    settings.MEDIA_ROOT = media.name
    settings.AI_AB_CANDIDATE_SHARE = 0.0
    call_command("migrate", verbosity=0, interactive=False)
    print(f"database: {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}, "
          f"torch threads {torch.get_num_threads()}, {args.calls} calls per placement after {args.warmup} warm-up")
    for size in (int(s) for s in args.sizes.split(",")):
        n_shoppers = max(2000, size // 2)
        started = time.perf_counter()
        ids = build_shop(size, n_shoppers, args.per_shopper)
        built = time.perf_counter() - started
        timings = train_models(ids)
        results, cpu_results = measure(ids, n_shoppers, args.calls, args.warmup)
        print(f"\n## {size:,} products, {n_shoppers:,} shoppers, {n_shoppers * args.per_shopper:,} events "
              f"(built in {built:.0f} s; " + ", ".join(f"{k} {v:.1f} s" for k, v in timings.items()) + ")")
        print("| placement | wall p50 ms | wall p95 ms | wall mean ms | CPU p50 ms | CPU p95 ms |")
        print("|---|---|---|---|---|---|")
        every, every_cpu = [], []
        for placement, times in results.items():
            cpu = cpu_results[placement]
            every += times
            every_cpu += cpu
            print(f"| {placement} | {percentile(times, 50):.2f} | {percentile(times, 95):.2f} | "
                  f"{statistics.fmean(times):.2f} | {percentile(cpu, 50):.2f} | {percentile(cpu, 95):.2f} |")
        print(f"| all placements | {percentile(every, 50):.2f} | {percentile(every, 95):.2f} | "
              f"{statistics.fmean(every):.2f} | {percentile(every_cpu, 50):.2f} | {percentile(every_cpu, 95):.2f} |")
        sys.stdout.flush()
    media.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
