"""Business rules applied to every recommendation list, whatever the models say.

- only active, in-stock products (the adapter's `available_product_ids`, cached for a few seconds);
- never the product being viewed, nothing already in the basket;
- products already bought are left out, unless their category is a repeat-purchase category
  (`AI_REPEAT_PURCHASE_CATEGORIES`: category ids or names);
- at most `AI_MAX_PER_CATEGORY` products per category, for variety.

The first three are applied as a boolean mask over the whole catalogue (numpy); the category rules
need the candidates' categories, so they run on the short list of candidates after one `get_products`.
"""
from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterable, Sequence, Set
from dataclasses import dataclass

import numpy as np

from ai.adapter import ProductInfo
from ai.conf import ai_settings

CATALOGUE_TTL_S = 15.0

_tokens = itertools.count(1)
_lock = threading.Lock()
_cached: tuple[float, Catalogue] | None = None


@dataclass(frozen=True)
class Catalogue:
    """The products that may be recommended now: sorted ids. `token` changes whenever it is rebuilt."""

    ids: np.ndarray
    token: int

    def __len__(self) -> int:
        return len(self.ids)

    def positions(self, product_ids: Iterable[int]) -> np.ndarray:
        """Catalogue positions of those of these products that are in the catalogue."""
        keys = np.fromiter((int(p) for p in product_ids), dtype=np.int64)
        if len(keys) == 0 or len(self.ids) == 0:
            return np.zeros(0, dtype=np.int64)
        pos = np.minimum(np.searchsorted(self.ids, keys), len(self.ids) - 1)
        return pos[self.ids[pos] == keys]


def available_catalogue(adapter=None) -> Catalogue:
    """Available product ids from the adapter, cached in-process for CATALOGUE_TTL_S seconds."""
    global _cached
    now = time.monotonic()
    cached = _cached
    if cached is not None and now - cached[0] < CATALOGUE_TTL_S:
        return cached[1]
    with _lock:
        if _cached is not None and now - _cached[0] < CATALOGUE_TTL_S:
            return _cached[1]
        adapter = adapter or ai_settings.adapter()
        ids = np.array(sorted(int(p) for p in adapter.available_product_ids()), dtype=np.int64)
        catalogue = Catalogue(ids=ids, token=next(_tokens))
        _cached = (time.monotonic(), catalogue)
        return catalogue


def clear_catalogue_cache() -> None:
    global _cached
    _cached = None


def allowed_mask(catalogue: Catalogue, excluded: Iterable[int]) -> np.ndarray:
    """True for every catalogue product that is not excluded (viewed product, basket, bought…)."""
    mask = np.ones(len(catalogue), dtype=bool)
    mask[catalogue.positions(excluded)] = False
    return mask


def preselect(
    ranked: np.ndarray, categories: np.ndarray, count: int, max_per_category: int | None = None
) -> np.ndarray:
    """The first `count` of these catalogue positions (best first) within the category cap, by the
    categories known ahead (catalogue-space array, -1 for unknown: never capped here)."""
    if max_per_category is None:
        max_per_category = ai_settings.MAX_PER_CATEGORY
    if not max_per_category:
        return ranked[:count]
    seen: dict[int, int] = {}
    keep = []
    for position, category in zip(ranked.tolist(), categories[ranked].tolist(), strict=False):
        if category >= 0:
            if seen.get(category, 0) >= max_per_category:
                continue
            seen[category] = seen.get(category, 0) + 1
        keep.append(position)
        if len(keep) >= count:
            break
    return np.asarray(keep, dtype=np.int64)


def is_repeat_purchase(product: ProductInfo, repeat_categories: Sequence) -> bool:
    """Whether any of the product's categories (by id or name) is a repeat-purchase category."""
    wanted = {str(c).lower() for c in repeat_categories}
    names = {str(c).lower() for c in product.all_category_ids} | {n.lower() for n in product.all_category_names}
    return bool(names & wanted)


def select(
    candidates: Iterable[int],
    products: dict[int, ProductInfo],
    *,
    limit: int,
    bought: Set[int] = frozenset(),
    max_per_category: int | None = None,
    repeat_categories: Sequence | None = None,
) -> list[ProductInfo]:
    """The first `limit` candidates (best first) that pass the per-product rules and the category cap."""
    if max_per_category is None:
        max_per_category = ai_settings.MAX_PER_CATEGORY
    if repeat_categories is None:
        repeat_categories = ai_settings.REPEAT_PURCHASE_CATEGORIES
    chosen: list[ProductInfo] = []
    per_category: dict[int | None, int] = {}
    for product_id in candidates:
        product = products.get(int(product_id))
        if product is None or not product.active or not product.in_stock:
            continue
        if product.id in bought and not is_repeat_purchase(product, repeat_categories):
            continue
        if max_per_category and product.category_id is not None:
            if per_category.get(product.category_id, 0) >= max_per_category:
                continue
            per_category[product.category_id] = per_category.get(product.category_id, 0) + 1
        chosen.append(product)
        if len(chosen) >= limit:
            break
    return chosen
