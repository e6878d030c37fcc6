"""Why a product is recommended, from the models' own signals.

For a personal list, each recommended product is traced back to the product of the shopper's history or
basket that points at it most strongly in the models that ranked it (co-occurrence weight, cosine of
learned or text embeddings, times the placement's weight of that model): "Because you bought X",
"Because you viewed X", "Often bought with X, in your basket". A product no seed points at was ranked
by popularity: "Popular in <its category>".
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass

import numpy as np

from ai.adapter import ProductInfo

from .sources import Source


@dataclass(frozen=True)
class Explanation:
    code: str  # bought | viewed | in_basket | popular_in | popular
    text: str
    product_id: int | None = None  # the product of the history or basket it refers to

    def as_dict(self) -> dict:
        return asdict(self)


def _seed_reason(seed: ProductInfo, *, in_basket: bool, bought: bool) -> Explanation:
    if in_basket:
        return Explanation("in_basket", f"Often bought with {seed.title}, in your basket", seed.id)
    if bought:
        return Explanation("bought", f"Because you bought {seed.title}", seed.id)
    return Explanation("viewed", f"Because you viewed {seed.title}", seed.id)


def _popular_reason(item: ProductInfo) -> Explanation:
    if item.category_name:
        return Explanation("popular_in", f"Popular in {item.category_name}")
    return Explanation("popular", "Popular right now")


def _affinities(source: Source, seeds: list[int], item_ids: list[int]) -> np.ndarray | None:
    """seeds x items affinities of one model (None: it has none): in one call where the model can."""
    many = getattr(source.model, "affinities", None)
    if many is not None:
        return many(seeds, item_ids)
    one = getattr(source.model, "affinity", None)
    if one is None:
        return None
    columns = []
    for item_id in item_ids:
        values = one(seeds, item_id)
        columns.append(np.zeros(len(seeds)) if values is None or len(values) == 0 else np.asarray(values))
    return np.column_stack(columns) if columns else None


def strongest_seeds(item_ids: list[int], seeds: list[int], used: Iterable[tuple[float, Source]]) -> list[int | None]:
    """Per item, the seed product that points at it most strongly across the used models (weighted);
    on a tie the most recent seed (seeds are oldest first); None when no seed points at it."""
    best_value = np.zeros(len(item_ids))
    best_seed: list[int | None] = [None] * len(item_ids)
    for weight, source in used:
        matrix = _affinities(source, seeds, item_ids)
        if matrix is None or matrix.size == 0:
            continue
        weighted = weight * np.asarray(matrix, dtype=np.float64)
        positions = len(seeds) - 1 - np.argmax(weighted[::-1], axis=0)  # last of the maxima, per item
        for column, position in enumerate(positions):
            if weighted[position, column] > best_value[column]:
                best_value[column], best_seed[column] = float(weighted[position, column]), seeds[int(position)]
    return best_seed


def explain(
    items: list[ProductInfo],
    used: list[tuple[float, Source]],
    seeds: list[int],
    seed_info: dict[int, ProductInfo],
    *,
    basket: set[int],
    bought: set[int],
) -> dict[int, Explanation]:
    """An explanation per recommended product id."""
    seeds = [s for s in dict.fromkeys(seeds) if s in seed_info]  # unique, known, order kept
    reasons: dict[int, Explanation] = {}
    strongest = strongest_seeds([item.id for item in items], seeds, used) if seeds and used else [None] * len(items)
    for item, seed in zip(items, strongest, strict=True):
        if seed is None:
            reasons[item.id] = _popular_reason(item)
        else:
            reasons[item.id] = _seed_reason(seed_info[seed], in_basket=seed in basket, bought=seed in bought)
    return reasons
