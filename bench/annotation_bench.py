"""The annotation workbench on PostgreSQL: importing 100 000 rows, and the labelling page's next item.

    createdb -h 127.0.0.1 -U aisle aisle_bench_annot
    DATABASE_URL=postgres://aisle:aisle@127.0.0.1:5432/aisle_bench_annot .venv/bin/python -m bench.annotation_bench

Migrates the database named by DATABASE_URL (use a dedicated one), then
- imports a generated CSV of `--rows` rows (unique texts, half with a label, a metadata column) into a
  new set: the whole all-or-nothing path (decode, validate every row, dedupe, bulk insert items and
  import annotations);
- in a set of `--rows` unlabelled items, of which the annotator has already labelled `--done` and
  another annotator holds a lease, measures the labelling page's endpoints through Django's test client
  (server time, no network): GET next item, and POST annotate (which answers with the next item), oldest
  first and then in uncertainty order with a live model; with the SQL queries per request.
Everything it created is deleted at the end.
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.auth.models import Group  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import reverse  # noqa: E402

from ai.annotation.importing import import_items  # noqa: E402
from ai.annotation.labelling import annotate, queue_for  # noqa: E402
from ai.annotation.locks import lockable_queue  # noqa: E402
from ai.models import Item, Label, LabelSet, ModelVersion  # noqa: E402

WORDS = ["order", "parcel", "refund", "money", "account", "password", "delivery", "late", "broken", "lamp", "mug", "candle", "gift", "card", "basket", "size", "colour"]


def make_csv(rows: int, seed: int) -> bytes:
    rng = random.Random(seed)
    lines = ["text,label,channel"]
    labels = ["order", "refund", "account", "other"]
    for n in range(rows):
        text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(4, 12))) + f" #{n}"
        lines.append(f"{text},{labels[n % 4] if n % 2 else ''},{rng.choice(['email', 'chat', 'web'])}")
    return ("\n".join(lines) + "\n").encode()


def new_set(name: str) -> LabelSet:
    label_set = LabelSet.objects.create(name=name, slug=name)
    Label.objects.bulk_create([Label(label_set=label_set, name=n, position=i) for i, n in enumerate(["order", "refund", "account", "other"])])
    return label_set


def timed(calls: int, action) -> tuple[list[float], list[float], int]:
    times, cpu_times, queries = [], [], 0
    for _ in range(calls):
        with CaptureQueriesContext(connection) as captured:
            start, cpu = time.perf_counter(), time.process_time()
            action()
            times.append((time.perf_counter() - start) * 1000)
            cpu_times.append((time.process_time() - cpu) * 1000)
        queries = len(captured)
    return times, cpu_times, queries


def summary(name: str, times: list[float], cpu_times: list[float], queries: int) -> None:
    times = sorted(times)
    p95 = times[int(0.95 * (len(times) - 1))]
    print(f"{name:<55} wall p50 {statistics.median(times):7.1f} ms  p95 {p95:7.1f} ms; "
          f"CPU p50 {statistics.median(cpu_times):6.1f} ms; {queries} queries", flush=True)


def explain(name: str, label_set: LabelSet, user, *, model_live: bool) -> None:
    """The plan PostgreSQL runs for the next-item queue query (EXPLAIN ANALYZE, inside a transaction)."""
    with transaction.atomic():
        plan = lockable_queue(queue_for(label_set, user, model_live=model_live))[:1].explain(analyze=True, buffers=True)
        transaction.set_rollback(True)
    print(f"EXPLAIN ANALYZE, {name}:\n{plan}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--done", type=int, default=5_000, help="items the annotator has labelled already")
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    User = get_user_model()
    LabelSet.objects.filter(slug__startswith="bench-").delete()
    User.objects.filter(username__startswith="bench-annot").delete()
    try:
        data = make_csv(args.rows, args.seed)
        imported = new_set("bench-import")
        start, cpu = time.perf_counter(), time.process_time()
        result = import_items(imported, data, "csv")
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
        print(f"import {args.rows} rows ({len(data) / 1e6:.1f} MB): {elapsed:.1f} s wall, {cpu:.1f} s CPU in this process "
              f"({args.rows / elapsed:,.0f} rows/s); {result.created} items, {result.labelled} labelled", flush=True)

        queue = new_set("bench-queue")
        unlabelled = b"text\n" + b"\n".join(line.split(b",")[0] for line in data.splitlines()[1:]) + b"\n"
        import_items(queue, unlabelled, "csv")
        annotator = User.objects.create_user("bench-annot-1", password="x", is_staff=True)
        other = User.objects.create_user("bench-annot-2", password="x", is_staff=True)
        for user in (annotator, other):
            user.groups.add(Group.objects.get(name="annotator"))
        label_ids = list(queue.labels.values_list("pk", flat=True))
        for item_id in Item.objects.filter(label_set=queue).order_by("created_at", "pk").values_list("pk", flat=True)[: args.done]:
            annotate(item_id, annotator, [label_ids[item_id % 4]])
        client, other_client = Client(), Client()
        client.force_login(annotator)
        other_client.force_login(other)
        other_client.get(reverse("admin:ai_labelset_next", args=[queue.pk]))  # holds a lease
        next_url = reverse("admin:ai_labelset_next", args=[queue.pk])
        annotate_url = reverse("admin:ai_labelset_annotate", args=[queue.pk])
        client.get(next_url)
        print(f"set of {Item.objects.filter(label_set=queue).count()} items; the annotator has labelled {args.done}")
        summary("GET next item (oldest first)", *timed(args.calls, lambda: client.get(next_url)))
        explain("queue query, oldest first", queue, annotator, model_live=False)

        summary("GET next + POST annotate (answers with the next item)", *timed(args.calls, lambda: client.post(
            annotate_url, {"item": client.get(next_url).json()["item"]["id"], "labels": [label_ids[0]]}, content_type="application/json"
        )))

        rng = random.Random(args.seed)
        items = list(Item.objects.filter(label_set=queue, complete=False).only("pk"))
        for item in items:
            item.uncertainty = rng.random()
        Item.objects.bulk_update(items, ["uncertainty"], batch_size=5000)
        version = ModelVersion.objects.create(kind=queue.model_key, version=1, status="live", artifact_dir="bench")
        LabelSet.objects.filter(pk=queue.pk).update(scored_version_id=version.pk)
        client.get(next_url)
        summary("GET next item (uncertainty order, live model)", *timed(args.calls, lambda: client.get(next_url)))
        explain("queue query, uncertainty order", queue, annotator, model_live=True)
        with open("/proc/loadavg") as handle:
            print("load average:", handle.read().strip())
    finally:
        ModelVersion.objects.filter(kind__startswith="text_classifier:bench-").delete()
        LabelSet.objects.filter(slug__startswith="bench-").delete()
        User.objects.filter(username__startswith="bench-annot").delete()


if __name__ == "__main__":
    main()
