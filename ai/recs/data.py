"""Interactions for training, read from the stored Events and the shop's product information."""
from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

import numpy as np

from ai.conf import ai_settings
from ai.models import Event, EventType
from ai.recs.base import Interactions

# How much one event says about a shopper's interest.
EVENT_WEIGHTS: dict[str, float] = {
    EventType.PURCHASE: 3.0,
    EventType.ADD_TO_CART: 2.0,
    EventType.VIEW: 1.0,
}
CHUNK = 5000


def user_key(user_id: int | None, visitor_id: str) -> str:
    return f"u:{user_id}" if user_id else f"v:{visitor_id}"


def build_interactions(
    *,
    event_types: Iterable[str] = tuple(EVENT_WEIGHTS),
    since: datetime | None = None,
    until: datetime | None = None,
    all_products: bool = False,
    with_texts: bool = False,
    progress: Callable[[float], None] | None = None,
) -> Interactions:
    """Events of these types (with a product the shop still knows) mapped to dense indices.

    Rows are sorted by (user, time). Items are the products in id order: those with events, or with
    `all_products` every product the shop has (so that models can place products nobody has touched
    yet). `item_categories` holds each product's category id (-1 for none); `item_texts` (with
    `with_texts`) its title and description.
    """
    event_types = list(event_types)
    unknown = [name for name in event_types if name not in EVENT_WEIGHTS]
    if unknown:
        raise ValueError(f"Unknown event types for training: {', '.join(unknown)} (known: {', '.join(EVENT_WEIGHTS)})")
    # Events API clients sent without a shop-wide grant stay out of what the shop learns as a whole.
    events = Event.objects.filter(event_type__in=event_types, product_id__isnull=False, shop_wide=True)
    if since is not None:
        events = events.filter(created_at__gte=since)
    if until is not None:
        events = events.filter(created_at__lt=until)
    total = events.count() or 1
    user_ids: dict[str, int] = {}
    users: list[int] = []
    products: list[int] = []
    stamps: list[float] = []
    weights: list[float] = []
    rows = events.order_by().values_list("user_id", "visitor_id", "product_id", "event_type", "created_at")
    for n, (uid, vid, pid, etype, created) in enumerate(rows.iterator(chunk_size=CHUNK), start=1):
        users.append(user_ids.setdefault(user_key(uid, vid), len(user_ids)))
        products.append(pid)  # type: ignore[arg-type]  # filtered on product_id__isnull=False
        stamps.append(created.timestamp())
        weights.append(EVENT_WEIGHTS[etype])
        if progress is not None and n % CHUNK == 0:
            progress(n / total)

    adapter = ai_settings.adapter()
    if all_products:
        catalogue = {info.id: info for info in adapter.iter_products()}
    else:
        catalogue = adapter.get_products(sorted(set(products)))
    item_keys = sorted(catalogue)
    item_index = {pid: i for i, pid in enumerate(item_keys)}

    product_arr = np.asarray(products, dtype=np.int64)
    known = np.fromiter((pid in item_index for pid in products), dtype=bool, count=len(products))
    user_arr = np.asarray(users, dtype=np.int64)[known]
    item_arr = np.fromiter((item_index[pid] for pid in product_arr[known]), dtype=np.int64, count=int(known.sum()))
    time_arr = np.asarray(stamps, dtype=np.float64)[known]
    weight_arr = np.asarray(weights, dtype=np.float32)[known]

    # Users left without events (all on products the shop no longer has) are dropped; renumber densely.
    keys_by_index = list(user_ids)
    present = np.unique(user_arr)
    remap = np.full(len(keys_by_index) or 1, -1, dtype=np.int64)
    remap[present] = np.arange(len(present))
    user_arr = remap[user_arr] if len(user_arr) else user_arr
    order = np.lexsort((time_arr, user_arr))
    categories = np.asarray(
        [catalogue[pid].category_id if catalogue[pid].category_id is not None else -1 for pid in item_keys],
        dtype=np.int64,
    )
    texts = [f"{catalogue[pid].title}. {catalogue[pid].description}".strip() for pid in item_keys] if with_texts else None
    if progress is not None:
        progress(1.0)
    return Interactions(
        users=user_arr[order],
        items=item_arr[order],
        timestamps=time_arr[order],
        n_users=len(present),
        n_items=len(item_keys),
        item_keys=item_keys,
        user_keys=[keys_by_index[i] for i in present],
        weights=weight_arr[order],
        item_categories=categories,
        item_texts=texts,
    )


def order_line_interactions(*, since: datetime | None = None) -> Interactions:
    """Purchases read from the shop's order lines (not cancelled), weighted by units: what the
    popularity kind learns from before any event was recorded (a shop that just installed the plug-in).
    Each order counts as one shopper when its customer is unknown."""
    users: dict[str, int] = {}
    rows: list[tuple[int, int, float, float]] = []
    try:
        for line in ai_settings.adapter().iter_order_lines(since=since):
            if line.cancelled or line.quantity <= 0:
                continue
            key = f"u:{line.user_id}" if line.user_id else f"o:{line.order_id}"
            rows.append((users.setdefault(key, len(users)), int(line.product_id), line.placed_at.timestamp(),
                         float(line.quantity)))
    except NotImplementedError:
        rows = []
    catalogue = ai_settings.adapter().get_products(sorted({r[1] for r in rows})) if rows else {}
    item_keys = sorted(catalogue)
    index = {pid: i for i, pid in enumerate(item_keys)}
    rows = sorted((u, index[p], t, q) for u, p, t, q in rows if p in index)
    user_arr = np.asarray([r[0] for r in rows], dtype=np.int64)
    present, user_arr = np.unique(user_arr, return_inverse=True) if len(rows) else (np.zeros(0), user_arr)
    return Interactions(
        users=user_arr.astype(np.int64),
        items=np.asarray([r[1] for r in rows], dtype=np.int64),
        timestamps=np.asarray([r[2] for r in rows], dtype=np.float64),
        n_users=len(present),
        n_items=len(item_keys),
        item_keys=item_keys,
        weights=np.asarray([r[3] for r in rows], dtype=np.float32),
        item_categories=np.asarray(
            [catalogue[p].category_id if catalogue[p].category_id is not None else -1 for p in item_keys],
            dtype=np.int64,
        ),
    )


def summarize(data: Interactions) -> dict[str, Any]:
    """What a model saw: counts and the time window (for TrainingRun.data_summary)."""
    summary: dict[str, Any] = {"interactions": int(len(data.items)), "users": data.n_users, "items": data.n_items}
    if len(data.timestamps):
        summary["first_event"] = datetime.fromtimestamp(float(data.timestamps.min()), tz=UTC).isoformat()
        summary["last_event"] = datetime.fromtimestamp(float(data.timestamps.max()), tz=UTC).isoformat()
    return summary
