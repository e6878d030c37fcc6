"""How Aisle's `ai` app sees this Oscar shop (`AI_SHOP_ADAPTER = "oscar_shop.ai_adapter.OscarAdapter"`).

Oscar's catalogue has several categories per product and prices that come from a partner's stock
record through a pricing strategy chosen per request; the adapter answers in ai's plain records.
Every method runs a constant number of queries.
"""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from decimal import Decimal

from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce
from django.http import HttpRequest
from oscar.core.loading import get_class, get_model
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import AuthenticationFailed

from ai.adapter import ApiClient, BaseShopAdapter, OrderLineInfo, ProductInfo
from ai.api import scopes

Product = get_model("catalogue", "Product")
Line = get_model("order", "Line")
StockRecord = get_model("partner", "StockRecord")
Selector = get_class("partner.strategy", "Selector")

CHUNK_SIZE = 2000
# The statuses (settings.OSCAR_ORDER_STATUS_PIPELINE) of orders that did not end in a kept purchase.
NOT_KEPT = ("Cancelled", "Refunded")


def _products():
    """Products that can be bought (standalone and variants, not the parents of variants)."""
    return (
        Product.objects.exclude(structure=Product.PARENT)
        .select_related("product_class", "parent", "parent__product_class")
        .prefetch_related("categories", "stockrecords", "images", "parent__categories")
    )


def _categories(product) -> list:
    # A variant is filed under its parent's categories.
    own = list(product.categories.all())
    return own or (list(product.parent.categories.all()) if product.parent_id else [])


def _image_url(product) -> str:
    images = list(product.images.all())
    return images[0].original.url if images and images[0].original else ""


def _product_info(product, strategy) -> ProductInfo:
    purchase = strategy.fetch_for_product(product)
    price = purchase.price
    amount = price.incl_tax if price.exists and price.is_tax_known else (price.excl_tax if price.exists else None)
    categories = _categories(product)
    first = categories[0] if categories else None
    return ProductInfo(
        id=product.pk,
        title=product.get_title(),
        description=product.description or (product.parent.description if product.parent_id else ""),
        category_id=first.pk if first else None,
        category_name=first.name if first else "",
        category_ids=tuple(category.pk for category in categories),
        category_names=tuple(category.name for category in categories),
        price=amount if amount is not None else Decimal("0.00"),
        in_stock=purchase.availability.is_available_to_buy,
        active=product.is_public and (product.parent is None or product.parent.is_public),
        url=product.get_absolute_url(),
        image_url=_image_url(product),
    )


class OscarAdapter(BaseShopAdapter):
    def _strategy(self, request: HttpRequest | None = None):
        user = getattr(request, "user", None) if request is not None else None
        return Selector().strategy(request=request, user=user)

    def iter_products(self, active_only: bool = False) -> Iterator[ProductInfo]:
        products = _products().order_by("pk")
        if active_only:
            products = products.filter(is_public=True)
        strategy = self._strategy()
        for product in products.iterator(chunk_size=CHUNK_SIZE):
            yield _product_info(product, strategy)

    def get_products(self, product_ids: Sequence[int], request: HttpRequest | None = None) -> dict[int, ProductInfo]:
        """Priced by Oscar's strategy for this request's customer (partner, tax, customer group)."""
        ids = {int(pk) for pk in product_ids}
        if not ids:
            return {}
        strategy = self._strategy(request)
        return {product.pk: _product_info(product, strategy) for product in _products().filter(pk__in=ids)}

    def available_product_ids(self) -> set[int]:
        """Public products with a stock record they can be bought from (Oscar's default strategy: stock
        is needed where the product class tracks it)."""
        in_stock = Q(product__product_class__track_stock=False, product__parent__isnull=True) | Q(
            product__parent__product_class__track_stock=False
        ) | Q(num_in_stock__gt=Coalesce(F("num_allocated"), Value(0)))
        return set(
            StockRecord.objects.filter(in_stock, product__is_public=True)
            .exclude(product__structure=Product.PARENT)
            .values_list("product_id", flat=True)
            .distinct()
        )

    def iter_order_lines(self, since: datetime | None = None, until: datetime | None = None) -> Iterator[OrderLineInfo]:
        lines = Line.objects.filter(product__isnull=False)
        if since is not None:
            lines = lines.filter(order__date_placed__gte=since)
        if until is not None:
            lines = lines.filter(order__date_placed__lt=until)
        rows = lines.order_by("order__date_placed", "order_id", "pk").values_list(
            "order_id", "order__user_id", "product_id", "quantity", "unit_price_incl_tax", "line_price_incl_tax",
            "order__date_placed", "order__status",
        )
        for order_id, user_id, product_id, quantity, unit_price, line_price, placed_at, status in rows.iterator(
            chunk_size=CHUNK_SIZE
        ):
            yield OrderLineInfo(
                order_id=order_id,
                user_id=user_id,
                product_id=product_id,
                quantity=quantity,
                unit_price=unit_price if unit_price is not None else line_price / quantity,
                placed_at=placed_at,
                cancelled=status in NOT_KEPT,
            )

    def purchased_product_ids(self, user_id: int) -> set[int]:
        return set(
            Line.objects.filter(order__user_id=user_id, product__isnull=False)
            .exclude(order__status__in=NOT_KEPT)
            .values_list("product_id", flat=True)
            .distinct()
        )

    def basket_product_ids(self, request: HttpRequest) -> set[int]:
        """The products in the request's Oscar basket (set by Oscar's BasketMiddleware)."""
        basket = getattr(request, "basket", None)
        if basket is None or not basket.id:
            return set()
        return {line.product_id for line in basket.all_lines() if line.product_id}

    # ai's API: this shop's API clients hold DRF tokens (`Authorization: Token <key>`).
    def api_client(self, request: HttpRequest) -> ApiClient | None:
        header = request.META.get("HTTP_AUTHORIZATION", "")
        keyword, _, key = header.partition(" ")
        if keyword != "Token":
            return None
        token = Token.objects.select_related("user").filter(key=key.strip()).first()
        if token is None or not token.user.is_active:
            raise AuthenticationFailed("Invalid token.")
        granted = scopes.ALL if token.user.is_staff else frozenset({scopes.RECOMMENDATIONS, scopes.EVENTS})
        return ApiClient(id=f"token:{token.user_id}", scopes=frozenset(granted), owner=token.user_id)

    def api_authenticate_header(self) -> str:
        return "Token"

    def api_client_product_ids(self, client: ApiClient, product_ids: set[int]) -> set[int]:
        """One shop, one catalogue: a client may send events about any product that exists."""
        return set(Product.objects.filter(pk__in=product_ids).values_list("pk", flat=True))

    def api_client_user_ids(self, client: ApiClient, user_ids: set[int]) -> set[int]:
        """Staff tokens know every customer; a customer's token only its own account."""
        if scopes.EVENTS_SHOP_WIDE in client.scopes:
            return set(user_ids)
        return {client.owner} & set(user_ids)
