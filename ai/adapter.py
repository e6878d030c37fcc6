"""How the AI plug-in sees the host shop.

A host project subclasses `BaseShopAdapter` and names it in `AI_SHOP_ADAPTER`. The plug-in never
imports the shop's models: it asks the adapter, which answers with the plain records below.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.http import HttpRequest


@dataclass(frozen=True)
class ProductInfo:
    id: int
    title: str
    description: str
    category_id: int | None
    category_name: str
    price: Decimal
    in_stock: bool
    active: bool
    url: str = ""
    image_url: str = ""


@dataclass(frozen=True)
class OrderLineInfo:
    order_id: int
    user_id: int | None
    product_id: int
    quantity: int
    unit_price: Decimal
    placed_at: datetime
    cancelled: bool = False


@dataclass(frozen=True)
class CustomerInfo:
    id: int
    email: str
    date_joined: datetime
    extra: dict = field(default_factory=dict)


class BaseShopAdapter:
    """The contract. Methods that the plug-in needs raise NotImplementedError until a shop provides them."""

    def iter_products(self, active_only: bool = False) -> Iterator[ProductInfo]:
        raise NotImplementedError

    def get_products(self, product_ids: Sequence[int]) -> dict[int, ProductInfo]:
        """The products with these ids (missing ids are simply absent), in one query."""
        raise NotImplementedError

    def available_product_ids(self) -> set[int]:
        """Ids of products that are active and in stock: what recommendations may show."""
        raise NotImplementedError

    def iter_order_lines(self, since: datetime | None = None, until: datetime | None = None) -> Iterator[OrderLineInfo]:
        """Every order line, oldest first."""
        raise NotImplementedError

    def purchased_product_ids(self, user_id: int) -> set[int]:
        raise NotImplementedError

    def basket_product_ids(self, request: HttpRequest) -> set[int]:
        raise NotImplementedError

    def get_customer(self, user_id: int) -> CustomerInfo | None:
        raise NotImplementedError

    def customers(self, user_ids: Iterable[int]) -> dict[int, CustomerInfo]:
        raise NotImplementedError
