"""What the shop's own data says about a product, shown on its page instead of marketing filler."""
from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Q

from shop.models import Product


@dataclass(frozen=True)
class ProductFacts:
    units_sold: int
    price_band: str  # "lower", "middle" or "upper" third of its category's prices; "" without a category
    category_size: int

    @property
    def price_band_text(self) -> str:
        if not self.price_band or self.category_size < 3:
            return ""
        return {"lower": "Among the lower-priced", "middle": "Mid-priced", "upper": "Among the higher-priced"}[
            self.price_band
        ]


def product_facts(product: Product) -> ProductFacts:
    """Units sold, and where the price sits among the category's active products (one query)."""
    if product.category_id is None:
        return ProductFacts(units_sold=product.units_sold, price_band="", category_size=0)
    counts = Product.objects.active().filter(category_id=product.category_id).aggregate(
        cheaper=Count("pk", filter=Q(price__lt=product.price)), total=Count("pk")
    )
    total = counts["total"] or 1
    share = counts["cheaper"] / total
    band = "lower" if share < 1 / 3 else "middle" if share < 2 / 3 else "upper"
    return ProductFacts(units_sold=product.units_sold, price_band=band, category_size=counts["total"])
