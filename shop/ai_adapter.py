"""How the AI plug-in sees this shop (`AI_SHOP_ADAPTER = "shop.ai_adapter.ShopAdapter"`).

Every method answers in a constant number of queries; the iterators stream with `.iterator()` so
that training over the whole catalogue and order history does not hold it all in memory twice.
"""
from __future__ import annotations

import hmac
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db.models import F, OuterRef, Prefetch, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpRequest
from django.urls import reverse

from ai.adapter import (
    ApiClient,
    BaseShopAdapter,
    DemandLineInfo,
    OrderActionError,
    OrderInfo,
    OrderLineInfo,
    OrderSummaryLine,
    ProductInfo,
)
from ai.compiled import CompiledRows
from shop.exceptions import ShopError
from shop.models import Order, OrderLine, OrderPart, OrderStatus, OrderStatusChange, Product
from shop.models.catalogue import product_image_url, product_url
from shop.search import search_products as shop_search
from shop.services import basket as basket_service
from shop.services import customer_orders
from shop.url_cache import bound_reverse, cached_reverse

CHUNK_SIZE = 2000
# Orders that did not end in a kept purchase: cancelled before shipping, or refunded.
NOT_KEPT = (OrderStatus.CANCELLED, OrderStatus.REFUNDED)


def _lines_with_status():
    """Order lines annotated with `line_status`: the status of their merchant's part of the order (a
    merchant may cancel or refund its own lines only), else the order's (orders stored without parts)."""
    part = OrderPart.objects.filter(order_id=OuterRef("order_id"), merchant_id=OuterRef("merchant_id"))
    return OrderLine.objects.annotate(line_status=Coalesce(Subquery(part.values("status")[:1]), F("order__status")))


def api_key_ai_scopes(api_key) -> set[str]:
    """The AI plug-in's scopes of one of Aisle's API keys (see ai.api.scopes): the key's scope, plus what
    staff granted it on the key (trusted storefront backend, model control, shop-wide events)."""
    from ai.api import scopes

    granted = {
        "read": {scopes.RECOMMENDATIONS},
        "write": {scopes.RECOMMENDATIONS, scopes.EVENTS},
        "ai": {scopes.RECOMMENDATIONS, scopes.EVENTS, scopes.MODELS_READ},
    }.get(api_key.scope, set())
    if api_key.trusted_storefront:
        granted.add(scopes.RECOMMENDATIONS_PERSONAL)
    if api_key.ai_model_control:
        granted.add(scopes.MODELS_CONTROL)
    if api_key.events_shop_wide:
        granted.add(scopes.EVENTS_SHOP_WIDE)
    return granted


# `get_products` is on every recommendation call's path: it reads these columns as plain rows (no model
# instances, no select_related machinery), with SQL the ORM compiles once per number of products
# (`ai.compiled`), and builds its ProductInfo from them in a fraction of the time.
_PRODUCT_ROW = (
    "pk", "title", "slug", "description", "category_id", "category__name", "price", "stock", "is_active", "image_url",
)


def _product_rows_queryset(ids: list[int]):
    return Product.objects.filter(pk__in=ids).order_by().values_list(*_PRODUCT_ROW)  # no ORDER BY title


_product_rows = CompiledRows(Product, _product_rows_queryset)


def _product_info_row(row: tuple, reverse: Callable[..., str]) -> ProductInfo:
    pk, title, slug, description, category_id, category_name, price, stock, is_active, image_url = row
    return ProductInfo(
        id=pk,
        title=title,
        description=description,
        category_id=category_id,
        category_name=category_name or "",
        price=price,
        in_stock=stock > 0,
        active=is_active,
        url=product_url(pk, slug, reverse),
        image_url=product_image_url(pk, title, image_url, reverse),
    )


def _product_info(product: Product) -> ProductInfo:
    """A model instance's ProductInfo: its `_PRODUCT_ROW` columns through `_product_info_row`, the one rule."""
    category = product.category
    row = (product.pk, product.title, product.slug, product.description, product.category_id,
           category.name if category else None, product.price, product.stock, product.is_active, product.image_url)
    return _product_info_row(row, cached_reverse)


def _order_info(order: Order) -> OrderInfo:
    reached = {change.to_status: change.changed_at for change in order.status_changes.all()}
    return OrderInfo(
        number=order.number,
        status=order.status,
        status_label=order.get_status_display(),
        placed_at=order.placed_at,
        total=order.total,
        currency=order.currency,
        lines=tuple(OrderSummaryLine(title=line.title, quantity=line.quantity) for line in order.lines.all()),
        shipping_method=order.shipping_method,
        shipping_city=order.shipping_city,
        shipping_postcode=order.shipping_postcode,
        shipped_at=reached.get(OrderStatus.SHIPPED),
        delivered_at=reached.get(OrderStatus.DELIVERED),
        can_cancel=order.status in customer_orders.CUSTOMER_CANCELLABLE,
        can_change_address=order.status in customer_orders.ADDRESS_CHANGEABLE,
        url=order.get_absolute_url() if order.user_id else "",
    )


def _entitled(order: Order, user_id: int | None, email: str | None) -> bool:
    """The owner (signed in), or whoever knows the e-mail address the order was placed with."""
    if user_id is not None and order.user_id == user_id:
        return True
    if email and order.email:
        return hmac.compare_digest(order.email.strip().lower().encode(), email.strip().lower().encode())
    return False


class ShopAdapter(BaseShopAdapter):
    def _products(self):
        return Product.objects.select_related("category").only(
            "pk", "title", "slug", "description", "category_id", "category__name",
            "price", "stock", "is_active", "image_url",
        )

    def iter_products(self, active_only: bool = False) -> Iterator[ProductInfo]:
        products = self._products().order_by("pk")
        if active_only:
            products = products.filter(is_active=True)
        for product in products.iterator(chunk_size=CHUNK_SIZE):
            yield _product_info(product)

    def get_products(self, product_ids: Sequence[int], request: HttpRequest | None = None) -> dict[int, ProductInfo]:
        # One price per product in this shop, whoever asks (a shop with per-customer prices uses `request`).
        ids = {int(pid) for pid in product_ids}
        if not ids:
            return {}
        reverse = bound_reverse()
        return {row[0]: _product_info_row(row, reverse) for row in _product_rows.rows(sorted(ids))}

    def available_product_ids(self) -> set[int]:
        return set(Product.objects.active().in_stock().values_list("pk", flat=True))

    def iter_order_lines(self, since: datetime | None = None, until: datetime | None = None) -> Iterator[OrderLineInfo]:
        lines = _lines_with_status().filter(product__isnull=False)
        if since is not None:
            lines = lines.filter(order__placed_at__gte=since)
        if until is not None:
            lines = lines.filter(order__placed_at__lt=until)
        rows = lines.order_by("order__placed_at", "order_id", "pk").values_list(
            "order_id", "order__user_id", "product_id", "quantity", "unit_price", "order__placed_at", "line_status"
        )
        for order_id, user_id, product_id, quantity, unit_price, placed_at, status in rows.iterator(chunk_size=CHUNK_SIZE):
            yield OrderLineInfo(
                order_id=order_id,
                user_id=user_id,
                product_id=product_id,
                quantity=quantity,
                unit_price=unit_price,
                placed_at=placed_at,
                cancelled=status in NOT_KEPT,
            )

    def iter_demand_lines(self, since: datetime | None = None, until: datetime | None = None) -> Iterator[DemandLineInfo]:
        """Kept and refunded order lines are sales when placed; a refunded line is also a return when the
        order was last changed (its refund). Cancelled orders never sold anything."""
        lines = _lines_with_status().filter(product__isnull=False).exclude(line_status=OrderStatus.CANCELLED)
        if since is not None:
            lines = lines.filter(order__placed_at__gte=since)
        if until is not None:
            lines = lines.filter(order__placed_at__lt=until)
        rows = lines.order_by("order__placed_at", "order_id", "pk").values_list(
            "product_id", "quantity", "order__placed_at", "order__updated_at", "line_status"
        )
        for product_id, quantity, placed_at, updated_at, status in rows.iterator(chunk_size=CHUNK_SIZE):
            yield DemandLineInfo(product_id=product_id, at=placed_at, quantity=quantity)
            if status == OrderStatus.REFUNDED:
                yield DemandLineInfo(product_id=product_id, at=updated_at, quantity=-quantity)

    def purchased_product_ids(self, user_id: int) -> set[int]:
        return set(
            _lines_with_status().filter(order__user_id=user_id, product__isnull=False)
            .exclude(line_status__in=NOT_KEPT)
            .values_list("product_id", flat=True)
            .distinct()
        )

    def basket_product_ids(self, request: HttpRequest) -> set[int]:
        return basket_service.basket_product_ids(request)

    # The API: Aisle's merchant API keys -----------------------------------------------------------
    def api_client(self, request: HttpRequest) -> ApiClient | None:
        from rest_framework.request import Request

        from shop.api.authentication import ApiKeyAuthentication

        found = ApiKeyAuthentication().authenticate(request if isinstance(request, Request) else Request(request))
        if found is None:
            return None
        api_key = found[1]
        return ApiClient(id=f"key:{api_key.prefix}", scopes=frozenset(api_key_ai_scopes(api_key)), owner=api_key.merchant_id)

    def api_authenticate_header(self) -> str:
        return 'Bearer realm="api"'

    def api_client_product_ids(self, client: ApiClient, product_ids: set[int]) -> set[int]:
        if not product_ids:
            return set()
        return set(Product.objects.filter(pk__in=product_ids, merchant_id=client.owner).values_list("pk", flat=True))

    def api_client_user_ids(self, client: ApiClient, user_ids: set[int]) -> set[int]:
        """A merchant knows the customers of its orders (an order with at least one of its lines)."""
        if not user_ids:
            return set()
        return set(
            OrderLine.objects.filter(merchant_id=client.owner, order__user_id__in=user_ids)
            .values_list("order__user_id", flat=True)
            .distinct()
        )

    # Support chat ---------------------------------------------------------------------------------
    # The shop's order numbers: "AI-261129-7K3F9Q" (checkout) and "OR-536365" (the demo's imported invoices).
    order_number_pattern = r"\b[A-Z]{2}-(?:\d{6}-[0-9A-Z]{6}|C?\d{5,7})\b"

    def customer_links(self) -> dict[str, str]:
        return {name: reverse(f"shop:{name}") for name in ("account", "signup", "password_reset")}

    def _orders(self):
        changes = OrderStatusChange.objects.filter(to_status__in=(OrderStatus.SHIPPED, OrderStatus.DELIVERED))
        return Order.objects.prefetch_related("lines", Prefetch("status_changes", queryset=changes))

    def _entitled_order(self, number: str, user_id: int | None, email: str | None) -> Order | None:
        number = (number or "").strip().upper()[:32]
        if not number or (user_id is None and not email):
            return None
        order = self._orders().filter(number=number).first()
        return order if order is not None and _entitled(order, user_id, email) else None

    def _found(self, number: str, user_id: int | None, email: str | None) -> OrderInfo:
        """The order as it is after a change (re-read, with its new status and history)."""
        info = self.find_order(number, user_id=user_id, email=email)
        if info is None:
            raise OrderActionError("I could not find that order.")
        return info

    def find_order(self, number: str, *, user_id: int | None = None, email: str | None = None) -> OrderInfo | None:
        order = self._entitled_order(number, user_id, email)
        return _order_info(order) if order else None

    def latest_orders(self, user_id: int, limit: int = 3) -> list[OrderInfo]:
        orders = self._orders().filter(user_id=user_id).order_by("-placed_at", "-pk")[:limit]
        return [_order_info(order) for order in orders]

    def cancel_order(
        self, number: str, *, user_id: int | None = None, email: str | None = None, actor: str = ""
    ) -> OrderInfo:
        order = self._entitled_order(number, user_id, email)
        if order is None:
            raise OrderActionError("I could not find that order.")
        user = get_user_model().objects.filter(pk=user_id).first() if user_id else None
        try:
            customer_orders.cancel_by_customer(order, user=user, actor=actor or "support chat")
        except ShopError as exc:
            raise OrderActionError(exc.message) from exc
        return self._found(order.number, user_id, email or order.email)

    def change_shipping_address(
        self,
        number: str,
        address: dict[str, str],
        *,
        user_id: int | None = None,
        email: str | None = None,
        actor: str = "",
    ) -> OrderInfo:
        order = self._entitled_order(number, user_id, email)
        if order is None:
            raise OrderActionError("I could not find that order.")
        user = get_user_model().objects.filter(pk=user_id).first() if user_id else None
        try:
            customer_orders.change_shipping_address(order, address, user=user, actor=actor or "support chat")
        except ShopError as exc:
            detail = "; ".join(exc.fields.values())
            raise OrderActionError(f"{exc.message} {detail}".strip()) from exc
        return self._found(order.number, user_id, email or order.email)

    def search_products(
        self,
        query: str,
        *,
        max_price: Decimal | None = None,
        min_price: Decimal | None = None,
        in_stock_only: bool = False,
        limit: int = 5,
    ) -> list[ProductInfo]:
        products = self._products().filter(is_active=True)
        if max_price is not None:
            products = products.filter(price__lte=max_price)
        if min_price is not None:
            products = products.filter(price__gte=min_price)
        if in_stock_only:
            products = products.filter(stock__gt=0)
        return [_product_info(product) for product in shop_search(query, products)[:limit]]
