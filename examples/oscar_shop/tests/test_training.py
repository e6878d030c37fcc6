"""What a shop owner does after installing ai: turn the orders already in Oscar into events, train the
popularity and co-occurrence models in-process (no broker), and read recommendations from them."""
from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from oscar_shop.ai_adapter import OscarAdapter

from ai import registry, tracking
from ai.models import Event, ModelVersion, TrainingRun
from ai.recs.service import recommend

pytestmark = pytest.mark.slow


def test_backfill_turns_every_order_line_into_one_purchase_event_once(order_history):
    lines = sum(order.lines.count() for order in order_history)
    assert lines == 36 and not Event.objects.exists()
    assert tracking.backfill_purchase_events(progress=False) == 36
    assert Event.objects.filter(event_type="purchase").count() == 36
    assert tracking.backfill_purchase_events(progress=False) == 0


def train(kind: str) -> TrainingRun:
    out = StringIO()
    call_command("ai_train", kind, "--wait", stdout=out, verbosity=0)
    run = TrainingRun.objects.get(kind=kind)
    assert run.status == TrainingRun.Status.SUCCEEDED, run.error + run.log_tail
    return run


def test_popularity_trains_in_process_and_ranks_oscars_best_sellers_first(order_history, catalogue):
    tracking.backfill_purchase_events(progress=False)
    run = train("popularity")
    version = ModelVersion.objects.get(training_run=run)
    assert version.status == ModelVersion.Status.LIVE  # the first version of a kind goes live
    ranking = registry.live_model("popularity").top_keys(3)
    # Order lines per product in the fixture: 0 -> 10, 1 -> 6, 2 -> 6 (then 3 and 5 -> 4, ...).
    assert ranking[0] == catalogue[0].pk
    assert set(ranking[1:3]) == {catalogue[1].pk, catalogue[2].pk}


def test_cooccurrence_trains_in_process_and_serves_customers_also_bought(order_history, catalogue):
    tracking.backfill_purchase_events(progress=False)
    train("cooccurrence")
    result = recommend(placement="product_also_bought", product_id=catalogue[0].pk, limit=3)
    assert result.items[0].id == catalogue[1].pk
    assert catalogue[0].pk not in [item.id for item in result.items]


def test_the_adapter_reads_oscars_catalogue_prices_stock_and_orders(order_history, catalogue):
    adapter = OscarAdapter()
    info = adapter.get_products([catalogue[4].pk])[catalogue[4].pk]
    assert (info.title, info.price, info.in_stock, info.active, info.category_name) == (
        "Cook book", catalogue[4].stockrecords.get().price, True, True, "Kitchen"
    )
    assert adapter.available_product_ids() == {product.pk for product in catalogue}
    lines = list(adapter.iter_order_lines())
    assert len(lines) == 36 and lines == sorted(lines, key=lambda line: (line.placed_at, line.order_id))
    first = order_history[0]
    assert adapter.purchased_product_ids(first.user_id) >= {catalogue[0].pk, catalogue[1].pk}
