"""Popularity over the catalogue: the fill of every blend and the answer when nothing is personal.

It comes from the live `popularity` version, which the training pipeline computes (from the stored
events, or from the shop's order lines before any event was recorded). Before the first popularity
model is trained, one grouped query over the last 90 days of stored events stands in (cached for a
few minutes); serving never reads the shop's order lines.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import numpy as np
from django.db.models import Case, IntegerField, Max, Sum, Value, When

from ai.conf import ai_settings
from ai.models import Event, EventType

from . import blend, caches, rules

logger = logging.getLogger(__name__)

# The stand-in popularity keeps this many products (with their categories, for the same-category fallback).
COLD_POPULAR_MAX = 5000
POPULARITY_TTL_S = 300.0
POPULARITY_WINDOW_DAYS = 90
EVENT_WEIGHTS = {EventType.PURCHASE: 3, EventType.ADD_TO_CART: 2, EventType.VIEW: 1}

_mapped = caches.lru(8)
_cold = caches.ttl(1, POPULARITY_TTL_S)


@dataclass
class Popular:
    """Popularity over the catalogue (normalised) and each catalogue product's category (-1: unknown)."""

    scores: np.ndarray
    categories: np.ndarray | None
    version_id: int | None
    keys: np.ndarray  # the source's product ids, and their categories (for products not in the catalogue)
    key_categories: np.ndarray | None

    def category_of(self, product_id: int) -> int | None:
        if self.key_categories is None:
            return None
        hit = np.flatnonzero(self.keys == int(product_id))
        if len(hit) == 0 or self.key_categories[hit[0]] < 0:
            return None
        return int(self.key_categories[hit[0]])


def popularity(catalogue: rules.Catalogue) -> Popular:
    """Popularity from the live `popularity` model, or from the stored events without one.
    Mapped onto the catalogue once per model and catalogue (cached)."""
    from ai import registry

    loaded = registry.live_loaded("popularity")
    if loaded is not None:
        key = (id(loaded.model), catalogue.token)
        cached = _mapped.get(key)
        if cached is not None:
            return cached
        try:
            result = _from_model(loaded.model, catalogue, loaded.version_id)
        except Exception:
            logger.exception("popularity model unusable; using the popularity of the stored events")
        else:
            return _mapped.set(key, result)
    keys, scores, categories = _cold.get_or_compute("events", _event_popularity)
    key = (id(keys), catalogue.token)
    return _mapped.get_or_compute(key, lambda: _map_popular(catalogue, keys, scores, categories, None))


def _from_model(model: Any, catalogue: rules.Catalogue, version_id: int) -> Popular:
    algorithm = getattr(model, "algorithm", model)
    keys = np.asarray(getattr(model, "item_keys", None) or getattr(algorithm, "item_keys", []), dtype=np.int64)
    scores = getattr(algorithm, "scores_", None)
    if scores is None:
        scores = algorithm.score([np.zeros(0, dtype=np.int64)])[0]
    categories = getattr(algorithm, "item_categories", None)
    return _map_popular(catalogue, keys, np.asarray(scores), categories, version_id)


def _map_popular(catalogue, keys, scores, categories, version_id) -> Popular:
    positions, present = blend.map_positions(catalogue.ids, keys)
    scores = np.clip(np.nan_to_num(np.asarray(scores, dtype=np.float32)), 0, None)
    top = float(scores.max()) if len(scores) else 0.0
    # Scaled by the maximum (not min-max): a product bought once keeps a score above zero.
    mapped = blend.to_catalogue(scores / top if top > 0 else scores, positions, present, len(catalogue))
    cat_space = None
    if categories is not None and len(categories) == len(keys):
        categories = np.asarray(categories, dtype=np.int64)
        cat_space = np.full(len(catalogue), -1, dtype=np.int64)
        cat_space[positions] = categories[present]
    else:
        categories = None
    return Popular(mapped, cat_space, version_id, keys, categories)


def _event_popularity() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weighted counts of purchases, add-to-baskets and views over the last 90 days of stored events
    (one grouped query), for the COLD_POPULAR_MAX most popular products, with their categories."""
    events = Event.objects.filter(event_type__in=list(EVENT_WEIGHTS), product_id__isnull=False, shop_wide=True)
    latest = events.aggregate(latest=Max("created_at"))["latest"]
    counts: dict[int, float] = {}
    if latest is not None:
        weight = Case(
            *(When(event_type=t, then=Value(w)) for t, w in EVENT_WEIGHTS.items()), output_field=IntegerField()
        )
        rows = (
            events.filter(created_at__gte=latest - timedelta(days=POPULARITY_WINDOW_DAYS))
            .values("product_id")
            .annotate(score=Sum(weight))
            .order_by("-score", "product_id")
            .values_list("product_id", "score")[:COLD_POPULAR_MAX]
        )
        counts = {int(p): float(s) for p, s in rows}  # type: ignore[arg-type]  # events with a product only
    top = sorted(counts)
    info = ai_settings.adapter().get_products(top) if top else {}
    keys = np.array(top, dtype=np.int64)
    scores = np.array([counts[int(k)] for k in keys], dtype=np.float32)
    categories = np.array(
        [info[int(k)].category_id if int(k) in info and info[int(k)].category_id is not None else -1 for k in keys],
        dtype=np.int64,
    )
    return keys, scores, categories
