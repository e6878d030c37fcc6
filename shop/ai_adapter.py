"""How the AI plug-in sees this shop (`AI_SHOP_ADAPTER = "shop.ai_adapter.ShopAdapter"`).

Every method answers in a constant number of queries; the iterators stream with `.iterator()` so
that training over the whole catalogue and order history does not hold it all in memory twice.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime

from django.contrib.auth import get_user_model
from django.http import HttpRequest

from ai.adapter import BaseShopAdapter, CustomerInfo, OrderLineInfo, ProductInfo
from shop.models import OrderLine, OrderStatus, Product
from shop.services import basket as basket_service

CHUNK_SIZE = 2000
# Orders that did not end in a kept purchase: cancelled before shipping, or refunded.
NOT_KEPT = (OrderStatus.CANCELLED, OrderStatus.REFUNDED)


def _product_info(product: Product) -> ProductInfo:
    category = product.category
    return ProductInfo(
        id=product.pk,
        title=product.title,
        description=product.description,
        category_id=product.category_id,
        category_name=category.name if category else "",
        price=product.price,
        in_stock=product.stock > 0,
        active=product.is_active,
        url=product.get_absolute_url(),
        image_url=product.image_url,
    )


def _customer_info(user) -> CustomerInfo:
    return CustomerInfo(id=user.pk, email=user.email, date_joined=user.date_joined, extra={"username": user.get_username()})


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

    def get_products(self, product_ids: Sequence[int]) -> dict[int, ProductInfo]:
        ids = {int(pid) for pid in product_ids}
        if not ids:
            return {}
        return {product.pk: _product_info(product) for product in self._products().filter(pk__in=ids)}

    def available_product_ids(self) -> set[int]:
        return set(Product.objects.active().in_stock().values_list("pk", flat=True))

    def iter_order_lines(self, since: datetime | None = None, until: datetime | None = None) -> Iterator[OrderLineInfo]:
        lines = OrderLine.objects.filter(product__isnull=False)
        if since is not None:
            lines = lines.filter(order__placed_at__gte=since)
        if until is not None:
            lines = lines.filter(order__placed_at__lt=until)
        rows = lines.order_by("order__placed_at", "order_id", "pk").values_list(
            "order_id", "order__user_id", "product_id", "quantity", "unit_price", "order__placed_at", "order__status"
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

    def purchased_product_ids(self, user_id: int) -> set[int]:
        return set(
            OrderLine.objects.filter(order__user_id=user_id, product__isnull=False)
            .exclude(order__status__in=NOT_KEPT)
            .values_list("product_id", flat=True)
            .distinct()
        )

    def basket_product_ids(self, request: HttpRequest) -> set[int]:
        return basket_service.basket_product_ids(request)

    def get_customer(self, user_id: int) -> CustomerInfo | None:
        user = get_user_model().objects.filter(pk=user_id).first()
        return _customer_info(user) if user else None

    def customers(self, user_ids: Iterable[int]) -> dict[int, CustomerInfo]:
        ids = {int(uid) for uid in user_ids}
        if not ids:
            return {}
        return {user.pk: _customer_info(user) for user in get_user_model().objects.filter(pk__in=ids)}
