"""Serving recommendations: `recommend(placement=..., ...)` -> RecommendationList.

One call: read the shopper's recent history (one query), take the models of the placement's strategy
(`placements`: the live versions, or the A/B candidate for the visitors in the candidate arm, see
`sources`), score the catalogue with vectorised numpy, blend, mask what the rules forbid, take the top
candidates, fetch them in one adapter call and apply the category rules. With no trained model at all
it still answers, from popularity (`popular`).
"""
from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ai.adapter import ProductInfo
from ai.conf import ai_settings
from ai.device import torch_threads

from . import blend, caches, diversify, rules
from .explain import Explanation, explain
from .history import History, recent_history
from .page import page_context
from .placements import PLACEMENTS, POOL_EXTRA, POOL_FACTOR, Ask, Placement
from .popular import Popular, popularity
from .sources import Source, ab_arm, source

__all__ = [
    "History", "MAX_LIMIT", "RecommendationError", "RecommendationList", "ab_arm", "popularity", "recent_history",
    "recommend", "reset_caches",
]

logger = logging.getLogger(__name__)

MAX_LIMIT = 50
# Products fetched beyond `limit` when the categories are known ahead (in case one changed category).
FETCH_SLACK = 2
# Scoring one shopper is a handful of small matrix products: one thread is fastest, and a web server's
# parallelism comes from its processes. (Many threads on a busy machine made it ten times slower.)
SERVING_TORCH_THREADS = 1
# The kind whose version stores the shared item space the diversity re-ranking works in.
DIVERSITY_SPACE_KIND = "cooccurrence"


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
    reasons: dict[int, Explanation] = field(default_factory=dict)  # product id -> why (personal lists)

    def reason(self, product_id: int) -> Explanation | None:
        return self.reasons.get(int(product_id))

    def __bool__(self) -> bool:
        return bool(self.items)

    def __len__(self) -> int:
        return len(self.items)


def reset_caches() -> None:
    """Forget every in-process cache (tests; after bulk catalogue changes)."""
    caches.clear_all()
    rules.clear_catalogue_cache()


def _clean_limit(limit: int | None) -> int:
    if limit is None:
        return int(ai_settings.DEFAULT_LIMIT)
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise RecommendationError(f"limit must be a whole number from 1 to {MAX_LIMIT}")
    return limit


def _placement(code: str, product_id: int | None) -> Placement:
    if code not in PLACEMENTS:
        raise RecommendationError(f"Unknown placement {code!r} (known: {', '.join(PLACEMENTS)})")
    placement = PLACEMENTS[code]
    if placement.needs_product and product_id is None:
        raise RecommendationError(f"The {code} placement needs a product")
    return placement


def _blend(
    placement: Placement, ask: Ask, catalogue: rules.Catalogue, arm: str
) -> tuple[np.ndarray, list[tuple[float, Source]]]:
    """The weighted sum of the placement's models' scores, and the models that had something to say."""
    combined = np.zeros(len(catalogue), dtype=np.float32)
    used: list[tuple[float, Source]] = []
    for kind, weight in placement.weights.items():
        model = source(kind, arm)
        if model is None:
            continue
        try:
            with torch_threads(SERVING_TORCH_THREADS):
                mapped = placement.scores(model, ask, catalogue)
        except Exception:  # a model failing must not take the page down: the others and popularity answer
            logger.exception("%s model failed for %s", kind, placement.code)
            continue
        if mapped is not None:
            combined += weight * mapped
            used.append((weight, model))
    used.sort(key=lambda pair: -pair[0])
    return combined, used


def diversity_weight(placement: Placement) -> float:
    """The placement's MMR weight: AI_RECS_DIVERSITY's for its code, else its own."""
    configured = (ai_settings.RECS_DIVERSITY or {}).get(placement.code)
    return placement.diversity if configured is None else float(configured)


def _diversified(ranked: np.ndarray, scores: np.ndarray, catalogue: rules.Catalogue, weight: float, arm: str,
                 picks: int) -> np.ndarray:
    """The ranked pool re-ordered by MMR in the stored item space (unchanged without one)."""
    space = source(DIVERSITY_SPACE_KIND, arm)
    vectors_of = getattr(space.model, "vectors_of", None) if space is not None else None
    vectors = vectors_of([int(p) for p in catalogue.ids[ranked]]) if vectors_of is not None else None
    if vectors is None:
        return ranked
    return ranked[diversify.mmr_order(scores[ranked], vectors, weight, picks)]


def _rank(
    combined: np.ndarray, allowed: np.ndarray, popular: Popular, *, personal: bool, limit: int, pool: int,
    repeat: bool, diversify_with: tuple[float, rules.Catalogue, str] | None = None,
) -> np.ndarray:
    """Catalogue positions of the best allowed candidates, best first (personal lists re-ranked for
    diversity when `diversify_with` (weight, catalogue, arm) says so)."""
    if personal:
        combined = combined + blend.POPULARITY_FILL * popular.scores
    else:  # nothing personal to go on: popular products, and only ones that someone has wanted
        combined = popular.scores
        allowed = allowed & (combined > 0)
    ranked = blend.top_k(combined, pool, allowed)
    if personal and diversify_with is not None and diversify_with[0] > 0:
        weight, catalogue, arm = diversify_with
        ranked = _diversified(ranked, combined, catalogue, weight, arm, 2 * limit + FETCH_SLACK)
    if not repeat and popular.categories is not None:
        # The category cap applied ahead with the categories known to popularity, so that only about
        # `limit` products are fetched; `rules.select` checks again with the shop's own answer.
        ranked = rules.preselect(ranked, popular.categories, limit + FETCH_SLACK)
    return ranked


def _shopper(request: Any, user_id: int | None, visitor_id: str | None, adapter: Any) -> tuple[History, set[int]]:
    """The shopper's recent history and everything they bought: read once per page, however many
    recommendation blocks it has (kept in the request's page context; without a request, read each time)."""
    memo = page_context(request).shoppers if request is not None else {}
    key = (user_id, visitor_id or None)
    if key not in memo:
        history = recent_history(user_id=user_id, visitor_id=visitor_id)
        purchased = set(history.purchased)
        if user_id is not None:
            purchased |= {int(p) for p in adapter.purchased_product_ids(user_id)}
        memo[key] = (history, frozenset(purchased))
    cached_history, bought = memo[key]
    return cached_history, set(bought)


def recommend(
    *,
    placement: str,
    user_id: int | None = None,
    visitor_id: str | None = None,
    product_id: int | None = None,
    basket_product_ids: Iterable[int] = (),
    limit: int | None = None,
    exclude: Iterable[int] = (),
    request: Any = None,
) -> RecommendationList:
    """A list of products for one placement, by the placement's blend, after the business rules.

    `basket_product_ids` are the products of the current basket (the "basket" placement's seeds) or of
    the order just placed ("confirmation"); they are never recommended back. `exclude` are products
    shown elsewhere on the same page (see `ai.recs.page`): never repeated. `request` goes to the adapter's
    `get_products`, which may price the products for that shopper.
    """
    strategy = _placement(placement, product_id)
    limit = _clean_limit(limit)
    basket = [int(p) for p in basket_product_ids]
    adapter = ai_settings.adapter()
    catalogue = rules.available_catalogue(adapter)
    list_id = uuid.uuid4().hex
    if len(catalogue) == 0:
        return RecommendationList([], placement, None, list_id, title=strategy.title)

    history, bought = _shopper(request, user_id, visitor_id, adapter)
    arm = ab_arm(visitor_id or (f"u:{user_id}" if user_id is not None else None))
    purchases = sorted(bought - history.purchased) + history.purchases
    ask = Ask(history=history, basket=basket, product_id=product_id, limit=limit, adapter=adapter, purchases=purchases)
    combined, used = _blend(strategy, ask, catalogue, arm)

    popular = popularity(catalogue)
    excluded = set(basket) | {int(p) for p in exclude}
    if product_id is not None:
        excluded.add(int(product_id))
    repeat_categories = ai_settings.REPEAT_PURCHASE_CATEGORIES
    repeat = bool(repeat_categories)
    if not repeat:
        excluded |= bought  # otherwise decided per product, once the candidates' categories are known
    allowed = strategy.narrow(rules.allowed_mask(catalogue, excluded), popular, ask, personal=bool(used))
    pool = limit * POOL_FACTOR + POOL_EXTRA + (len(bought) if repeat else 0)
    ranked = _rank(combined, allowed, popular, personal=bool(used), limit=limit, pool=pool, repeat=repeat,
                   diversify_with=(diversity_weight(strategy), catalogue, arm))
    candidates = [int(p) for p in catalogue.ids[ranked]]
    seeds = strategy.explanation_seeds(ask) if strategy.explains else []
    # One adapter call for the candidates and the products an explanation may name.
    products = adapter.get_products(candidates + seeds, request=request) if candidates else {}
    items = rules.select(candidates, products, limit=limit, bought=bought, repeat_categories=repeat_categories)
    reasons = explain(items, used, seeds, products, basket=set(basket), bought=bought) if strategy.explains else {}

    return RecommendationList(
        items=items,
        placement=placement,
        model_version_id=used[0][1].version_id if used else popular.version_id,
        list_id=list_id,
        title=strategy.title if used or not strategy.fallback_title else strategy.fallback_title,
        sources=[s.kind for _, s in used] or ["popularity"],
        arm=arm,
        reasons=reasons,
    )
