"""How the AI plug-in sees the host shop.

A host project subclasses `BaseShopAdapter` and names it in `AI_SHOP_ADAPTER`. The plug-in never
imports the shop's models: it asks the adapter, which answers with the plain records below.
"""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.http import HttpRequest


@dataclass(frozen=True)
class ProductInfo:
    """A product as ai sees it. `category_id`/`category_name` are its main category (the one the "at most
    AI_MAX_PER_CATEGORY per category" rule counts); `category_ids`/`category_names` are all of them, for a
    shop where a product sits in several (empty: just the main one). `price` is what this shopper pays
    (the adapter may price per request: per partner, per customer group, with tax…)."""

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
    category_ids: tuple[int, ...] = ()
    category_names: tuple[str, ...] = ()

    @property
    def all_category_ids(self) -> tuple[int, ...]:
        if self.category_ids:
            return self.category_ids
        return (self.category_id,) if self.category_id is not None else ()

    @property
    def all_category_names(self) -> tuple[str, ...]:
        if self.category_names:
            return self.category_names
        return (self.category_name,) if self.category_name else ()


@dataclass(frozen=True)
class ApiClient:
    """A server-to-server caller of ai's API, as the host shop authenticated it (`api_client`).

    id: a stable, non-secret name recorded on the events it sends (e.g. "key:3f2a91c0").
    scopes: what it may do, from `ai.api.scopes` (recommendations, events, models:read, and the ones
    only staff grant: recommendations:personal, models:control, events:shop_wide).
    owner: whatever the host uses to scope its data (e.g. the merchant's id), passed back to the adapter.
    """

    id: str
    scopes: frozenset[str]
    owner: Any = None


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


class BaseShopAdapter:
    """The contract. The catalogue and order methods (`iter_products`, `get_products`, `iter_order_lines`)
    are what every shop must provide; the others have defaults that suit a shop without that feature."""

    def iter_products(self, active_only: bool = False) -> Iterator[ProductInfo]:
        raise NotImplementedError(f"{type(self).__name__} must implement iter_products")

    def get_products(self, product_ids: Sequence[int], request: HttpRequest | None = None) -> dict[int, ProductInfo]:
        """The products with these ids (missing ids are simply absent), in one query, priced for the shopper
        of `request` when there is one (None: the shop's default price)."""
        raise NotImplementedError(f"{type(self).__name__} must implement get_products")

    def available_product_ids(self) -> set[int]:
        """Ids of products that are active and in stock: what recommendations may show.
        The default walks `iter_products`; a shop with a large catalogue answers in one query."""
        return {product.id for product in self.iter_products(active_only=True) if product.active and product.in_stock}

    def iter_order_lines(self, since: datetime | None = None, until: datetime | None = None) -> Iterator[OrderLineInfo]:
        """Every order line, oldest first."""
        raise NotImplementedError(f"{type(self).__name__} must implement iter_order_lines")

    def iter_demand_lines(self, since: datetime | None = None, until: datetime | None = None) -> Iterator[DemandLineInfo]:
        """What demand forecasts learn from: units sold per order line, net of cancelled orders, and units
        returned as negative lines. This default reads `iter_order_lines` (no returns); a shop that records
        returns overrides it."""
        for line in self.iter_order_lines(since=since, until=until):
            if not line.cancelled:
                yield DemandLineInfo(product_id=line.product_id, at=line.placed_at, quantity=line.quantity)

    def purchased_product_ids(self, user_id: int) -> set[int]:
        """Products this customer bought and kept. The default: none (recommendations may then repeat them)."""
        return set()

    def basket_product_ids(self, request: HttpRequest) -> set[int]:
        """Products in this shopper's basket. The default: none."""
        return set()

    # The API: server-to-server callers -------------------------------------------------------------
    def api_client(self, request: HttpRequest) -> ApiClient | None:
        """The server-to-server caller of this request (from the host's own API keys), or None when the
        request carries no such credentials. Raise rest_framework's AuthenticationFailed for credentials
        that are present but wrong. The default: no server-to-server callers (staff sessions only)."""
        return None

    def api_authenticate_header(self) -> str:
        """The WWW-Authenticate value of a 401 (e.g. 'Bearer realm="api"'); empty: answer 403 instead."""
        return ""

    def api_client_product_ids(self, client: ApiClient, product_ids: set[int]) -> set[int]:
        """Which of these products the client may send events about (its own). The default: none."""
        return set()

    def api_client_user_ids(self, client: ApiClient, user_ids: set[int]) -> set[int]:
        """Which of these users the client knows (e.g. customers of its orders). The default: none."""
        return set()

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
