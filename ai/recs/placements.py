"""Placement strategies: for each placement, its title, which models it blends with what weight, what
those models score from (the seeds), and any narrowing of the candidates. `service.recommend` runs
whichever strategy the placement names and never branches on placement names itself.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from . import rules, sources, taste
from .history import HISTORY_LENGTH, History
from .popular import Popular

# Candidates fetched per list (one get_products call) before the category rules: room for the rules
# to drop some. Unavailable, viewed, basket and bought products are masked before, over the catalogue.
POOL_FACTOR = 4
POOL_EXTRA = 16
# "Recommended for you": the weight of the purchase history beside the recent sequence when the model's
# version has none tuned on validation data (`ai.recs.taste`; the kinds store theirs with the version).
LONG_TERM_WEIGHT = taste.DEFAULT_LONG_TERM
# "Recommended for you": the MMR diversity weight (ai.recs.diversify), tuned offline against NDCG@10 on the
# Online Retail purchases with this placement's blend (`ai_eval recs --blend sasrec=0.6,cooccurrence=0.4
# --diversity ...`): the largest weight of the grid that costs at most 1 % of the blend's NDCG@10
# (docs/benchmarks.md); AI_RECS_DIVERSITY overrides it per placement.
HOME_DIVERSITY = 0.4


@dataclass(frozen=True)
class Ask:
    """One recommendation request, as the strategies see it."""

    history: History
    basket: list[int]  # the current basket, or the order just placed
    product_id: int | None
    limit: int
    adapter: Any
    purchases: list[int] = field(default_factory=list)  # long-term taste: everything bought, oldest first


@dataclass(frozen=True)
class Placement:
    code: str
    title: str
    # Weight of each model kind. The kind with the largest weight that had something to say is the
    # list's "main" model: its version is the one recorded with impressions and clicks.
    weights: dict[str, float] = field(default_factory=dict)
    # Title shown instead when the list comes from popularity alone (a new visitor on the home page).
    fallback_title: str = ""
    # Share of the long-term taste (scores from the purchase history) beside the short-term one (the
    # recent sequence of views, additions and purchases). 0: the recent sequence alone.
    long_term: float = 0.0
    # MMR weight of the diversity re-ranking of personal lists (0: none); see `ai.recs.diversify`.
    diversity: float = 0.0
    needs_product: ClassVar[bool] = False
    # Personal lists say why each product is there (see `explain`).
    explains: ClassVar[bool] = True

    def seeds(self, ask: Ask, kind: str) -> list[int]:
        """The products `kind` scores from: the shopper's history (oldest first)."""
        return ask.history.products

    def scores(self, source: sources.Source, ask: Ask, catalogue: rules.Catalogue) -> np.ndarray | None:
        """The source's normalised scores over the catalogue for this request (None: nothing to say):
        from the recent sequence, mixed with those from the purchase history by `long_term`."""
        seeds = self.seeds(ask, source.kind)
        long_term = self.long_term_weight(source)
        if not long_term or not ask.purchases or ask.purchases == seeds:
            return sources.history_scores(source, seeds, catalogue)
        # Both views of the shopper in one call of the model (one forward pass of a sequence model).
        recent, taste = sources.histories_scores(source, [seeds, ask.purchases], catalogue)
        if recent is None or taste is None:
            return taste if recent is None else recent
        return (1.0 - long_term) * recent + long_term * taste

    def long_term_weight(self, source: sources.Source) -> float:
        """The long-term share for this source: the weight its version tuned on validation data, else the
        placement's own; placements without long-term taste (0) never mix it in."""
        if not self.long_term:
            return 0.0
        tuned = getattr(source.model, "long_term", None)
        return self.long_term if tuned is None else float(tuned)

    def explanation_seeds(self, ask: Ask) -> list[int]:
        """The products an explanation may point at: the history, the purchases, the basket."""
        return [*ask.purchases, *ask.history.products, *ask.basket]

    def narrow(self, allowed: np.ndarray, popular: Popular, ask: Ask, *, personal: bool) -> np.ndarray:
        """The candidates, possibly narrowed (after the models scored, before the ranking)."""
        return allowed


@dataclass(frozen=True)
class BasketPlacement(Placement):
    """"Complete your basket": the recent history and the basket; co-occurrence from the basket alone."""

    def seeds(self, ask: Ask, kind: str) -> list[int]:
        recent = ask.history.products[-HISTORY_LENGTH // 2 :] + ask.basket
        if kind == "cooccurrence":
            return ask.basket or recent
        return recent


@dataclass(frozen=True)
class ConfirmationPlacement(Placement):
    """"You may also like" after an order: the history, then the order's products not already in it."""

    def seeds(self, ask: Ask, kind: str) -> list[int]:
        seen = set(ask.history.products)
        return ask.history.products + [p for p in ask.basket if p not in seen]


@dataclass(frozen=True)
class ProductPlacement(Placement):
    """A list about the product being viewed: its nearest products by each model."""

    needs_product: ClassVar[bool] = True
    explains: ClassVar[bool] = False

    def scores(self, source: sources.Source, ask: Ask, catalogue: rules.Catalogue) -> np.ndarray | None:
        if ask.product_id is None:  # the API and the tag refuse a product placement without a product
            return None
        k = ask.limit * POOL_FACTOR + POOL_EXTRA + len(ask.basket)
        return sources.neighbour_scores(source, int(ask.product_id), k, catalogue)


@dataclass(frozen=True)
class SimilarProductsPlacement(ProductPlacement):
    """"Similar products"; for a product no model knows, the popular products of its category."""

    def narrow(self, allowed: np.ndarray, popular: Popular, ask: Ask, *, personal: bool) -> np.ndarray:
        if personal or popular.categories is None or ask.product_id is None:
            return allowed
        category = popular.category_of(ask.product_id)
        if category is None:  # a product nobody has touched yet: ask the shop (one query)
            viewed = ask.adapter.get_products([int(ask.product_id)]).get(int(ask.product_id))
            category = viewed.category_id if viewed is not None else None
        if category is None:
            return allowed
        in_category = allowed & (popular.categories == category)
        return in_category if in_category.any() else allowed


PLACEMENTS: dict[str, Placement] = {
    placement.code: placement
    for placement in (
        Placement(
            "home", "Recommended for you", {"sasrec": 0.6, "cooccurrence": 0.4}, fallback_title="Popular right now",
            long_term=LONG_TERM_WEIGHT, diversity=HOME_DIVERSITY,
        ),
        ProductPlacement("product_also_bought", "Customers also bought", {"cooccurrence": 1.0}),
        SimilarProductsPlacement("product_similar", "Similar products", {"content": 1.0}),
        BasketPlacement("basket", "Complete your basket", {"cooccurrence": 0.7, "sasrec": 0.3}),
        ConfirmationPlacement("confirmation", "You may also like", {"cooccurrence": 0.5, "sasrec": 0.5}),
    )
}
