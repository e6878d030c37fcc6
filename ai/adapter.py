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
class DemandLineInfo:
    """Units of a product that left (positive: a sale) or came back (negative: a return) at a moment."""

    product_id: int
    at: datetime
    quantity: int


@dataclass(frozen=True)
class OrderSummaryLine:
    title: str
    quantity: int


@dataclass(frozen=True)
class OrderInfo:
    """One order as the support chat may show it to the person entitled to it (see `find_order`)."""

    number: str
    status: str  # the shop's status code (pending, paid, shipped, delivered, cancelled, refunded, …)
    status_label: str
    placed_at: datetime
    total: Decimal
    currency: str
    lines: tuple[OrderSummaryLine, ...] = ()
    shipping_method: str = ""
    shipping_city: str = ""
    shipping_postcode: str = ""
    # When it left the warehouse, and when it arrived, if it has.
    shipped_at: datetime | None = None
    delivered_at: datetime | None = None
    can_cancel: bool = False
    can_change_address: bool = False
    url: str = ""


class OrderActionError(Exception):
    """A change to an order the shop refused; `message` is written for the shopper."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


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

    def iter_demand_lines(self, since: datetime | None = None, until: datetime | None = None) -> Iterator[DemandLineInfo]:
        """What demand forecasts learn from: units sold per order line, net of cancelled orders, and units
        returned as negative lines. This default reads `iter_order_lines` (no returns); a shop that records
        returns overrides it."""
        for line in self.iter_order_lines(since=since, until=until):
            if not line.cancelled:
                yield DemandLineInfo(product_id=line.product_id, at=line.placed_at, quantity=line.quantity)

    def purchased_product_ids(self, user_id: int) -> set[int]:
        raise NotImplementedError

    def basket_product_ids(self, request: HttpRequest) -> set[int]:
        raise NotImplementedError

    def get_customer(self, user_id: int) -> CustomerInfo | None:
        raise NotImplementedError

    def customers(self, user_ids: Iterable[int]) -> dict[int, CustomerInfo]:
        raise NotImplementedError

    # Support chat ---------------------------------------------------------------------------------
    # Order access is decided here, by the shop: an order is returned only to its owner (user_id) or to
    # whoever gives the e-mail address it was placed with. Anyone else gets None, exactly as for an
    # order that does not exist, so that the chat cannot be used to learn which order numbers exist.

    # A regular expression matching the shop's order numbers inside a sentence (case-insensitive).
    order_number_pattern: str = r"\b[A-Z]{2,4}-?\d[0-9A-Z-]{3,20}\b"

    def customer_links(self) -> dict[str, str]:
        """Paths of the shop's pages that chat answers link to: keys account, signup, password_reset."""
        return {}

    def find_order(self, number: str, *, user_id: int | None = None, email: str | None = None) -> OrderInfo | None:
        """The order `number` if `user_id` owns it or `email` is the address it was placed with, else None."""
        return None

    def latest_orders(self, user_id: int, limit: int = 3) -> list[OrderInfo]:
        """The customer's most recent orders, newest first."""
        return []

    def cancel_order(
        self, number: str, *, user_id: int | None = None, email: str | None = None, actor: str = ""
    ) -> OrderInfo:
        """Cancel through the shop's order pipeline and its rules; raises OrderActionError when refused.
        The same ownership rule as `find_order` (a stranger's order is "not found")."""
        raise OrderActionError("Orders cannot be cancelled through the chat in this shop; please contact us.")

    def change_shipping_address(
        self,
        number: str,
        address: dict[str, str],
        *,
        user_id: int | None = None,
        email: str | None = None,
        actor: str = "",
    ) -> OrderInfo:
        """Change where an order that has not shipped yet goes (address keys: name, line1, line2, city,
        postcode, country); raises OrderActionError when refused or when the address is incomplete."""
        raise OrderActionError("Addresses cannot be changed through the chat in this shop; please contact us.")

    def search_products(
        self,
        query: str,
        *,
        max_price: Decimal | None = None,
        min_price: Decimal | None = None,
        in_stock_only: bool = False,
        limit: int = 5,
    ) -> list[ProductInfo]:
        """Active products matching the words of `query`, best first (a shop with a search engine overrides
        this; the default scans the catalogue and suits small shops only)."""
        words = [w for w in query.lower().split() if w]
        if not words:
            return []
        found = []
        for product in self.iter_products(active_only=True):
            text = f"{product.title} {product.description}".lower()
            if not all(w in text for w in words):
                continue
            if (max_price is not None and product.price > max_price) or (min_price is not None and product.price < min_price):
                continue
            if in_stock_only and not product.in_stock:
                continue
            found.append(product)
            if len(found) >= limit:
                break
        return found
