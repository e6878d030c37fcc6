"""Serving recommendations: `recommend(placement=..., ...)` -> RecommendationList.

One call: read the shopper's recent history (one query), take the models of the placement (the live
versions, or the A/B candidate for the visitors in the candidate arm), score the catalogue with
vectorised numpy, blend (`blend.WEIGHTS`), mask what the rules forbid, take the top candidates, fetch
them in one adapter call and apply the category rules. With no trained model at all it still answers,
from popularity computed over the stored events (or the shop's order lines).
"""
from __future__ import annotations

import hashlib
import logging
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import numpy as np
import torch
from django.db.models import Case, IntegerField, Max, Sum, Value, When

from ai.adapter import ProductInfo
from ai.conf import ai_settings
from ai.models import Event, EventType, ModelVersion

from . import blend, rules

logger = logging.getLogger(__name__)

MAX_LIMIT = 50
HISTORY_LENGTH = 50
HISTORY_EVENTS = (EventType.VIEW, EventType.ADD_TO_CART, EventType.PURCHASE)
# Candidates fetched per list (one get_products call) before the category rules: room for the rules
# to drop some. Unavailable, viewed, basket and bought products are masked before, over the catalogue.
POOL_FACTOR = 4
POOL_EXTRA = 16
# Products fetched beyond `limit` when the categories are known ahead (in case one changed category).
FETCH_SLACK = 2
# The cold popularity keeps this many products (with their categories, for the same-category fallback).
COLD_POPULAR_MAX = 5000
# Scoring one shopper is a handful of small matrix products: one thread is fastest, and a web server's
# parallelism comes from its processes. (Many threads on a busy machine made it ten times slower.)
SERVING_TORCH_THREADS = 1
POPULARITY_TTL_S = 300.0
POPULARITY_WINDOW_DAYS = 90
EVENT_WEIGHTS = {EventType.PURCHASE: 3, EventType.ADD_TO_CART: 2, EventType.VIEW: 1}


class RecommendationError(ValueError):
    """Bad arguments to `recommend` (unknown placement, limit out of range, missing product)."""


@dataclass
class RecommendationList:
    items: list[ProductInfo]
    placement: str
    model_version_id: int | None
    list_id: str
    title: str = ""
    sources: list[str] = field(default_factory=list)  # kinds that contributed, main one first
    arm: str = "live"

    def __bool__(self) -> bool:
        return bool(self.items)

    def __len__(self) -> int:
        return len(self.items)


@dataclass
class _Source:
    """A scoring model as serving sees it: its item keys and what it can score."""

    kind: str
    model: Any  # ai.kinds.recs.ServedRecommender-like: item_keys, score_history, similar_items
    version_id: int | None


# -- models: live versions and the A/B candidate ------------------------------------------------

_lock = threading.Lock()
_versions: dict[str, tuple[float, ModelVersion | None]] = {}
_candidates: dict[int, Any] = {}
_MISSING = object()
_positions: dict[tuple[int, int], blend.Mapping] = {}
_popular: dict[tuple[int, int], Popular] = {}
_popularity: tuple[float, np.ndarray, np.ndarray, np.ndarray] | None = None


def reset_caches() -> None:
    """Forget every in-process cache (tests; after bulk catalogue changes)."""
    global _popularity
    with _lock:
        _versions.clear()
        _candidates.clear()
        _positions.clear()
        _popular.clear()
        _popularity = None
    rules.clear_catalogue_cache()


def ab_arm(visitor_key: str | None) -> str:
    """"candidate" for a deterministic share AI_AB_CANDIDATE_SHARE of visitors, else "live"."""
    share = float(ai_settings.AB_CANDIDATE_SHARE or 0.0)
    if not visitor_key or share <= 0:
        return "live"
    digest = hashlib.sha256(f"ai-ab:{visitor_key}".encode()).digest()
    bucket = int.from_bytes(digest[:8], "big") / 2**64
    return "candidate" if bucket < share else "live"


def _candidate_version(kind: str) -> ModelVersion | None:
    """The newest candidate of `kind` newer than the live version: the A/B arm's model.
    Re-read at most every AI_REGISTRY_POLL_S seconds."""
    now = time.monotonic()
    cached = _versions.get(kind)
    if cached and now - cached[0] < float(ai_settings.REGISTRY_POLL_S):
        return cached[1]
    rows = list(
        ModelVersion.objects.filter(kind=kind, status__in=[ModelVersion.Status.LIVE, ModelVersion.Status.CANDIDATE])
        .order_by("-version")
        .only("id", "kind", "version", "status", "artifact_dir", "checksums", "config")[:20]
    )
    live = next((v for v in rows if v.status == ModelVersion.Status.LIVE), None)
    candidate = None
    if live is not None and rows and rows[0].status == ModelVersion.Status.CANDIDATE:
        candidate = rows[0]
    _versions[kind] = (now, candidate)
    return candidate


def _source(kind: str, arm: str) -> _Source | None:
    """The model serving `kind` for this arm: the live version, or for the candidate arm the newest
    candidate (beside a live version; a candidate that fails to load falls back to the live one)."""
    from ai import registry

    loaded = registry.live_loaded(kind)
    if loaded is None:
        return None
    if arm == "candidate":
        candidate = _candidate_version(kind)
        if candidate is not None:
            model = _candidates.get(candidate.pk, _MISSING)
            if model is _MISSING:
                try:
                    model = registry.load_version(candidate)
                except Exception:  # a broken candidate must not break the page
                    logger.exception("A/B candidate %s could not be loaded; serving the live version", candidate)
                    model = None  # remembered: not retried on every request
                with _lock:
                    if len(_candidates) > 8:
                        _candidates.clear()
                    _candidates[candidate.pk] = model
            if model is not None:
                return _Source(kind, model, candidate.pk)
    return _Source(kind, loaded.model, loaded.version_id)


def _mapping(source: _Source, catalogue: rules.Catalogue) -> blend.Mapping:
    key = (id(source.model), catalogue.token)
    cached = _positions.get(key)
    if cached is None:
        cached = blend.mapping(catalogue.ids, np.asarray(source.model.item_keys, dtype=np.int64))
        with _lock:
            if len(_positions) > 32:
                _positions.clear()
            _positions[key] = cached
    return cached


def _in_catalogue(source: _Source, scores: np.ndarray | None, catalogue: rules.Catalogue) -> np.ndarray | None:
    if scores is None:
        return None
    mapped = _mapping(source, catalogue).dense(scores)
    return mapped if mapped.any() else None


# -- popularity: the fill and the cold fallback -------------------------------------------------


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
    """Popularity from the live `popularity` model, or computed from the stored events without one.
    Mapped onto the catalogue once per model and catalogue (cached)."""
    from ai import registry

    loaded = registry.live_loaded("popularity")
    if loaded is not None:
        model = loaded.model
        key = (id(model), catalogue.token)
        cached = _popular.get(key)
        if cached is not None:
            return cached
        try:
            algorithm = _algorithm_of(model)
            keys = np.asarray(getattr(model, "item_keys", None) or getattr(algorithm, "item_keys", []), dtype=np.int64)
            scores = getattr(algorithm, "scores_", None)
            if scores is None:
                scores = algorithm.score([np.zeros(0, dtype=np.int64)])[0]
            categories = getattr(algorithm, "item_categories", None)
            result = _map_popular(catalogue, keys, np.asarray(scores), categories, loaded.version_id)
        except Exception:
            logger.exception("popularity model unusable; using the popularity of the stored events")
        else:
            return _remember(key, result)
    keys, scores, categories = _cold_popularity()
    key = (id(keys), catalogue.token)
    return _popular.get(key) or _remember(key, _map_popular(catalogue, keys, scores, categories, None))


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


def _remember(key, popular: Popular) -> Popular:
    with _lock:
        if len(_popular) > 8:
            _popular.clear()
        _popular[key] = popular
    return popular


def _algorithm_of(model: Any) -> Any:
    return getattr(model, "algorithm", model)


def _cold_popularity() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weighted counts of purchases, add-to-baskets and views over the last 90 days of stored events
    (or, with no events, units ordered from the shop's order lines), for the COLD_POPULAR_MAX most
    popular products, with their categories; cached for a few minutes."""
    global _popularity
    now = time.monotonic()
    if _popularity is not None and now - _popularity[0] < POPULARITY_TTL_S:
        return _popularity[1], _popularity[2], _popularity[3]
    events = Event.objects.filter(event_type__in=list(EVENT_WEIGHTS), product_id__isnull=False)
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
            .values_list("product_id", "score")
        )
        counts = {int(p): float(s) for p, s in rows}
    else:
        units: Counter[int] = Counter()
        try:
            for line in ai_settings.adapter().iter_order_lines():
                if not line.cancelled:
                    units[line.product_id] += line.quantity
        except NotImplementedError:
            pass
        counts = {p: float(q) for p, q in units.items()}
    top = sorted(counts, key=lambda p: (-counts[p], p))[:COLD_POPULAR_MAX]
    info = ai_settings.adapter().get_products(top) if top else {}
    keys = np.array(sorted(top), dtype=np.int64)
    scores = np.array([counts[int(k)] for k in keys], dtype=np.float32)
    categories = np.array(
        [info[int(k)].category_id if int(k) in info and info[int(k)].category_id is not None else -1 for k in keys],
        dtype=np.int64,
    )
    _popularity = (now, keys, scores, categories)
    return keys, scores, categories


# -- history ------------------------------------------------------------------------------------


@dataclass
class History:
    products: list[int]  # oldest first, consecutive repeats collapsed
    purchased: set[int]


def recent_history(*, user_id: int | None, visitor_id: str | None, length: int = HISTORY_LENGTH) -> History:
    """The last `length` views, add-to-baskets and purchases of the user (or visitor): one query."""
    if user_id is not None:
        events = Event.objects.filter(user_id=user_id)
    elif visitor_id:
        events = Event.objects.filter(visitor_id=visitor_id)
    else:
        return History([], set())
    rows = list(
        events.filter(event_type__in=HISTORY_EVENTS, product_id__isnull=False)
        .order_by("-created_at", "-pk")
        .values_list("product_id", "event_type")[:length]
    )
    products: list[int] = []
    for product_id, _ in reversed(rows):
        if not products or products[-1] != product_id:
            products.append(int(product_id))
    purchased = {int(p) for p, t in rows if t == EventType.PURCHASE}
    return History(products, purchased)


# -- the call -----------------------------------------------------------------------------------


@contextmanager
def _torch_threads(count: int):
    previous = torch.get_num_threads()
    if previous != count:
        torch.set_num_threads(count)
    try:
        yield
    finally:
        if previous != count:
            torch.set_num_threads(previous)


def _clean_limit(limit: int | None) -> int:
    if limit is None:
        return int(ai_settings.DEFAULT_LIMIT)
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise RecommendationError(f"limit must be a whole number from 1 to {MAX_LIMIT}")
    return limit


def recommend(
    *,
    placement: str,
    user_id: int | None = None,
    visitor_id: str | None = None,
    product_id: int | None = None,
    basket_product_ids: Iterable[int] = (),
    limit: int | None = None,
) -> RecommendationList:
    """A list of products for one placement, by the placement's blend, after the business rules.

    `basket_product_ids` are the products of the current basket (the "basket" placement's seeds) or of
    the order just placed ("confirmation"); they are never recommended back.
    """
    if placement not in blend.PLACEMENTS:
        raise RecommendationError(f"Unknown placement {placement!r} (known: {', '.join(blend.PLACEMENTS)})")
    info = blend.PLACEMENTS[placement]
    if info.needs_product and product_id is None:
        raise RecommendationError(f"The {placement} placement needs a product")
    limit = _clean_limit(limit)
    basket = [int(p) for p in basket_product_ids]
    adapter = ai_settings.adapter()
    catalogue = rules.available_catalogue(adapter)
    list_id = uuid.uuid4().hex
    if len(catalogue) == 0:
        return RecommendationList([], placement, None, list_id, title=info.title)

    history = recent_history(user_id=user_id, visitor_id=visitor_id)
    bought = set(history.purchased)
    if user_id is not None:
        bought |= {int(p) for p in adapter.purchased_product_ids(user_id)}
    arm = ab_arm(visitor_id or (f"u:{user_id}" if user_id is not None else None))

    # Seeds: what the models score from.
    if placement == "basket":
        seeds = history.products[-HISTORY_LENGTH // 2 :] + basket
    elif placement == "confirmation":
        seen = set(history.products)
        seeds = history.products + [p for p in basket if p not in seen]
    else:
        seeds = history.products

    combined = np.zeros(len(catalogue), dtype=np.float32)
    used: list[tuple[float, _Source]] = []
    for kind, weight in blend.WEIGHTS[placement].items():
        source = _source(kind, arm)
        if source is None:
            continue
        try:
            with _torch_threads(SERVING_TORCH_THREADS):
                if info.needs_product:
                    found = source.model.similar_items(product_id, limit * POOL_FACTOR + POOL_EXTRA + len(basket))
                    mapped = _mapping(source, catalogue).sparse(*found) if found is not None else None
                    mapped = mapped if mapped is not None and mapped.any() else None
                else:
                    seed = (basket or seeds) if placement == "basket" and kind == "cooccurrence" else seeds
                    mapped = _in_catalogue(source, source.model.score_history(seed), catalogue)
        except Exception:  # a model failing must not take the page down: the others and popularity answer
            logger.exception("%s model failed for %s", kind, placement)
            continue
        if mapped is not None:
            combined += weight * mapped
            used.append((weight, source))

    popular = popularity(catalogue)
    excluded = set(basket)
    if product_id is not None:
        excluded.add(int(product_id))
    repeat = ai_settings.REPEAT_PURCHASE_CATEGORIES
    if not repeat:
        excluded |= bought  # otherwise decided per product, once the candidates' categories are known
    allowed = rules.allowed_mask(catalogue, excluded)
    pool = limit * POOL_FACTOR + POOL_EXTRA + (len(bought) if repeat else 0)

    # "Similar products" of a product no model knows: popular products of its category.
    if placement == "product_similar" and not used and popular.categories is not None:
        category = popular.category_of(product_id)
        if category is None:  # a product nobody has touched yet: ask the shop (one query)
            viewed = adapter.get_products([int(product_id)]).get(int(product_id))
            category = viewed.category_id if viewed is not None else None
        if category is not None:
            in_category = allowed & (popular.categories == category)
            if in_category.any():
                allowed = in_category

    if used:
        combined += blend.POPULARITY_FILL * popular.scores
    else:  # nothing personal to go on: popular products, and only ones that someone has wanted
        combined = popular.scores
        allowed &= combined > 0
    ranked = blend.top_k(combined, pool, allowed)
    if not repeat and popular.categories is not None:
        # The category cap applied ahead with the categories known to popularity, so that only about
        # `limit` products are fetched; `rules.select` below checks again with the shop's own answer.
        ranked = rules.preselect(ranked, popular.categories, limit + FETCH_SLACK)
    candidates = [int(p) for p in catalogue.ids[ranked]]
    products = adapter.get_products(candidates) if candidates else {}
    items = rules.select(candidates, products, limit=limit, bought=bought, repeat_categories=repeat)

    used.sort(key=lambda pair: -pair[0])
    main_version = used[0][1].version_id if used else popular.version_id
    title = info.title if used or not info.fallback_title else info.fallback_title
    return RecommendationList(
        items=items,
        placement=placement,
        model_version_id=main_version,
        list_id=list_id,
        title=title,
        sources=[s.kind for _, s in used] or ["popularity"],
        arm=arm,
    )
