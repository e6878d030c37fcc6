"""Views of the merchant API. Thin: validation in serializers, domain work in shop.services.

Every queryset is scoped to the merchant of the API key (`request.auth.merchant`); staff sessions see
everything. Another merchant's objects are therefore simply not found (404).
"""
from __future__ import annotations

from django.db import transaction
from django.db.models import Exists, F, OuterRef, Prefetch, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import filters, status, viewsets
from rest_framework.authentication import SessionAuthentication
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from shop.api import serializers as s
from shop.api.authentication import ApiKeyAuthentication
from shop.api.filters import OrderFilter, ProductFilter
from shop.api.idempotency import idempotent
from shop.api.inventory_serializers import ProductInventorySerializer
from shop.api.permissions import (
    IsApiKeyOrStaff,
    MethodScope,
    StaffModelPermissions,
    StaffWritesOnly,
    key_of,
    staff_merchant_ids,
)
from shop.api.schema import IDEMPOTENCY_KEY, IDEMPOTENT_REPLAYED
from shop.api.throttling import ApiKeyRateThrottle
from shop.models import (
    ApiKey,
    Category,
    Order,
    OrderLine,
    OrderPart,
    OrderStatus,
    Product,
    ProductInventory,
    StockAdjustment,
)
from shop.services import orders as order_services
from shop.services.product_upsert import bulk_upsert
from shop.services.stock import adjust_stock, set_stock

IDEMPOTENT = [IDEMPOTENCY_KEY, IDEMPOTENT_REPLAYED]
# Declared on every view rather than inherited from REST_FRAMEWORK, so that a host project with open
# DRF defaults cannot loosen them: a merchant API key, or a staff session (with CSRF); per-key throttling.
AUTHENTICATION = [ApiKeyAuthentication, SessionAuthentication]
THROTTLES = [ApiKeyRateThrottle]


class MerchantScopedMixin(GenericAPIView):
    """Which merchants' data the caller sees: an API key its own merchant's; a staff session every
    merchant's, or only those of the merchants a non-superuser staff member is linked to."""

    @property
    def merchant(self):
        """The API key's merchant (None for a staff session): the merchant that creates through a key."""
        api_key = key_of(self.request)
        return api_key.merchant if api_key is not None else None

    @property
    def merchant_ids(self) -> list[int] | None:
        """None: every merchant (superuser, shop-wide staff); else the ids of the merchants in reach."""
        api_key = key_of(self.request)
        if api_key is not None:
            return [api_key.merchant_id]
        return staff_merchant_ids(self.request)

    def actor(self) -> dict:
        api_key = key_of(self.request)
        if api_key is not None:
            return {"api_key": api_key, "user": None}
        return {"api_key": None, "user": self.request.user}


@extend_schema_view(
    list=extend_schema(summary="List categories", description="The category tree, root first by path."),
    retrieve=extend_schema(summary="Get a category"),
    create=extend_schema(summary="Create a category (staff only)"),
    update=extend_schema(summary="Replace a category (staff only)"),
    partial_update=extend_schema(summary="Update a category (staff only)"),
    destroy=extend_schema(summary="Delete a category (staff only)",
                          description="Refused with 409 while it has subcategories."),
)
class CategoryViewSet(viewsets.ModelViewSet):
    authentication_classes = AUTHENTICATION
    throttle_classes = THROTTLES
    queryset = Category.objects.all()
    serializer_class = s.CategorySerializer
    permission_classes = [IsApiKeyOrStaff, MethodScope, StaffWritesOnly, StaffModelPermissions]
    lookup_value_regex = "[0-9]+"
    filter_backends = [filters.OrderingFilter, filters.SearchFilter]
    ordering_fields = ["path", "name", "id"]
    ordering = ["path"]
    search_fields = ["name", "path"]

    @idempotent
    def create(self, request, *args, **kwargs):
        return super().create(request, *args, **kwargs)


@extend_schema_view(
    list=extend_schema(summary="List products", description="Your products, active or not. Paginated."),
    retrieve=extend_schema(summary="Get a product"),
    create=extend_schema(summary="Create a product", request=s.ProductCreateSerializer,
                         responses={201: s.ProductSerializer}, parameters=IDEMPOTENT),
    update=extend_schema(summary="Replace a product",
                         description="Stock cannot be set here: use stock adjustments."),
    partial_update=extend_schema(summary="Update some fields of a product"),
    destroy=extend_schema(summary="Deactivate a product",
                          description="Products are never deleted (orders refer to them): this sets "
                          "`is_active` to false. Reactivate with PATCH `{\"is_active\": true}`."),
)
class ProductViewSet(MerchantScopedMixin, viewsets.ModelViewSet):
    authentication_classes = AUTHENTICATION
    throttle_classes = THROTTLES
    queryset = Product.objects.all()
    serializer_class = s.ProductSerializer
    permission_classes = [IsApiKeyOrStaff, MethodScope, StaffModelPermissions]
    # Staff sessions: the model permissions of the custom actions (the rest follow the HTTP method).
    action_permissions = {
        "bulk_upsert": {"POST": ["shop.add_product", "shop.change_product"]},
        "stock_adjustments": {"GET": ["shop.view_stockadjustment"], "POST": ["shop.add_stockadjustment"]},
        "inventory": {"GET": ["shop.view_productinventory"], "PUT": ["shop.change_productinventory"],
                      "PATCH": ["shop.change_productinventory"]},
    }
    lookup_value_regex = "[0-9]+"
    filter_backends = [
        DjangoFilterBackend,
        filters.SearchFilter,
        filters.OrderingFilter,
    ]
    filterset_class = ProductFilter
    search_fields = ["title", "sku", "description"]
    ordering_fields = ["id", "title", "sku", "price", "stock", "units_sold", "created_at", "updated_at"]
    ordering = ["id"]

    def get_queryset(self) -> QuerySet[Product]:
        queryset = Product.objects.select_related("merchant", "category")
        if self.merchant_ids is not None:
            queryset = queryset.filter(merchant_id__in=self.merchant_ids)
        return queryset

    def get_serializer_class(self):
        return s.ProductCreateSerializer if self.action == "create" else super().get_serializer_class()

    def get_serializer_context(self) -> dict:
        return {**super().get_serializer_context(), "api_key": key_of(self.request),
                "merchant_ids": self.merchant_ids}

    @idempotent
    def create(self, request, *args, **kwargs):
        return super().create(request, *args, **kwargs)

    def perform_create(self, serializer) -> None:
        with transaction.atomic():
            opening_stock = serializer.validated_data.get("stock", 0)
            product = serializer.save(stock=0)
            set_stock(product, opening_stock, "opening stock", **self.actor())

    def perform_destroy(self, instance: Product) -> None:
        if instance.is_active:
            instance.is_active = False
            instance.save(update_fields=["is_active", "updated_at"])

    @extend_schema(
        summary="Create or update products by SKU",
        description="All rows or none: if any row is invalid, nothing is saved and the error's "
        "`fields.rows` maps each bad row's index to its field errors. A new SKU needs `title` and "
        "`price`; an existing one is updated with the fields given. `stock` sets the level outright "
        "(recorded as a stock adjustment).",
        request=s.BulkUpsertSerializer,
        responses={200: s.BulkUpsertResultSerializer},
        parameters=IDEMPOTENT,
    )
    @action(detail=False, methods=["post"], url_path="bulk-upsert")
    @idempotent
    def bulk_upsert(self, request: Request) -> Response:
        serializer = s.BulkUpsertSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        merchant = self.merchant
        if merchant is None:
            raise ValidationError("Bulk upsert works on one merchant's catalogue: use that merchant's API key.")
        result = bulk_upsert(merchant, serializer.validated_data["rows"], **self.actor())
        items = [{"id": p.pk, "sku": p.sku, "created": True} for p in result.created]
        items += [{"id": p.pk, "sku": p.sku, "created": False} for p in result.updated]
        body = {"created": len(result.created), "updated": len(result.updated), "products": items}
        return Response(s.BulkUpsertResultSerializer(body).data)

    @extend_schema(
        methods=["GET"], summary="List a product's stock adjustments", responses=s.StockAdjustmentSerializer(many=True)
    )
    @extend_schema(
        methods=["POST"], summary="Adjust a product's stock",
        description="Adds `delta` (negative to remove) and records the adjustment with its reason. "
        "Stock never goes below zero: such an adjustment is refused with 409.",
        request=s.StockAdjustmentSerializer, responses={201: s.StockAdjustmentSerializer}, parameters=IDEMPOTENT,
    )
    @action(detail=True, methods=["get", "post"], url_path="stock-adjustments",
            serializer_class=s.StockAdjustmentSerializer, filter_backends=[])
    def stock_adjustments(self, request: Request, pk: str | None = None) -> Response:
        product = self.get_object()
        if request.method == "POST":
            return self._adjust_stock(request, product)
        queryset = StockAdjustment.objects.filter(product=product).select_related("api_key")
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(s.StockAdjustmentSerializer(page, many=True).data)

    @idempotent
    def _adjust_stock(self, request: Request, product: Product) -> Response:
        serializer = s.StockAdjustmentSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        adjustment = adjust_stock(product, serializer.validated_data["delta"],
                                  serializer.validated_data["reason"], **self.actor())
        return Response(s.StockAdjustmentSerializer(adjustment).data, status=status.HTTP_201_CREATED)

    @extend_schema(methods=["GET"], summary="Get a product's reorder settings",
                   description="Its own values (null: the merchant's default) and, in `effective`, what the reorder "
                   "maths uses.", responses=ProductInventorySerializer)
    @extend_schema(methods=["PUT", "PATCH"], summary="Set a product's reorder settings",
                   description="Supplier, lead time (days), target service level, minimum order quantity, pack size "
                   "and unit cost; null takes the merchant's default again.",
                   request=ProductInventorySerializer, responses=ProductInventorySerializer)
    @action(detail=True, methods=["get", "put", "patch"], url_path="inventory",
            serializer_class=ProductInventorySerializer, filter_backends=[])
    def inventory(self, request: Request, pk: str | None = None) -> Response:
        product = self.get_object()
        try:
            inventory = product.inventory
        except ProductInventory.DoesNotExist:
            inventory = ProductInventory(product=product)
        context = {"product": product}
        if request.method == "GET":
            return Response(ProductInventorySerializer(inventory, context=context).data)
        with transaction.atomic():
            serializer = ProductInventorySerializer(inventory, data=request.data, partial=request.method == "PATCH",
                                                    context=context)
            serializer.is_valid(raise_exception=True)
            serializer.save()
        return Response(serializer.data)


def order_action(url_path: str, to_status: str):
    """A POST action that moves an order through the pipeline (shop.services.orders.transition)."""
    schema = extend_schema(
        summary=f"Move the order to “{to_status}”",
        description=f"Follows the order pipeline: moving to “{to_status}” from a status that does not allow "
        "it is refused with 409 (`forbidden_transition`). The optional note is kept in the status history.",
        request=s.OrderActionSerializer,
        responses={200: s.OrderSerializer},
    )
    return lambda handler: schema(action(detail=True, methods=["post"], url_path=url_path, filter_backends=[])(handler))


@extend_schema_view(
    list=extend_schema(summary="List orders with your products",
                       description="Orders that contain at least one of your products, newest first."),
    retrieve=extend_schema(summary="Get an order",
                           description="Only your own lines are shown, with the address to ship them to."),
)
class OrderViewSet(MerchantScopedMixin, viewsets.ReadOnlyModelViewSet):
    authentication_classes = AUTHENTICATION
    throttle_classes = THROTTLES
    queryset = Order.objects.all()
    serializer_class = s.OrderSerializer
    permission_classes = [IsApiKeyOrStaff, MethodScope, StaffModelPermissions]
    action_permissions = {
        name: {"POST": ["shop.change_order"]} for name in ("mark_paid", "ship", "deliver", "cancel", "refund")
    }
    lookup_field = "number"
    lookup_value_regex = "[A-Za-z0-9-]{1,32}"
    filterset_class = OrderFilter
    ordering_fields = ["placed_at", "updated_at", "number"]
    ordering = ["-placed_at", "-pk"]

    def get_queryset(self) -> QuerySet[Order]:
        merchant_ids = self.merchant_ids
        lines = OrderLine.objects.select_related("merchant").order_by("pk")
        parts = OrderPart.objects.select_related("merchant").order_by("pk")
        queryset = Order.objects.all()
        if merchant_ids is not None:
            lines = lines.filter(merchant_id__in=merchant_ids)
            parts = parts.filter(merchant_id__in=merchant_ids)
            queryset = queryset.filter(
                Exists(OrderLine.objects.filter(order=OuterRef("pk"), merchant_id__in=merchant_ids))
            )
            if len(merchant_ids) == 1:
                # The caller's own fulfilment status, which the `status` filter then matches.
                own = OrderPart.objects.filter(order=OuterRef("pk"), merchant_id=merchant_ids[0]).values("status")[:1]
                queryset = queryset.annotate(merchant_status=Coalesce(Subquery(own), F("status")))
        return queryset.prefetch_related(
            Prefetch("lines", queryset=lines, to_attr="visible_lines"),
            Prefetch("parts", queryset=parts, to_attr="visible_parts"),
        )

    def _transition(self, request: Request, to_status: str) -> Response:
        order = self.get_object()
        body = s.OrderActionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        api_key: ApiKey | None = key_of(request)
        actor = f"api key {api_key.prefix} ({api_key.merchant.slug})" if api_key else ""
        # Only the caller's part(s) of the order move: a merchant never ships or cancels another's lines.
        order_services.transition(
            order, to_status, user=None if api_key else request.user, actor=actor, note=body.validated_data["note"],
            merchant_ids=self.merchant_ids,
        )
        return Response(self.get_serializer(self.get_object()).data)

    @order_action("mark-paid", OrderStatus.PAID)
    def mark_paid(self, request: Request, number: str | None = None) -> Response:
        return self._transition(request, OrderStatus.PAID)

    @order_action("ship", OrderStatus.SHIPPED)
    def ship(self, request: Request, number: str | None = None) -> Response:
        return self._transition(request, OrderStatus.SHIPPED)

    @order_action("deliver", OrderStatus.DELIVERED)
    def deliver(self, request: Request, number: str | None = None) -> Response:
        return self._transition(request, OrderStatus.DELIVERED)

    @order_action("cancel", OrderStatus.CANCELLED)
    def cancel(self, request: Request, number: str | None = None) -> Response:
        return self._transition(request, OrderStatus.CANCELLED)

    @order_action("refund", OrderStatus.REFUNDED)
    def refund(self, request: Request, number: str | None = None) -> Response:
        return self._transition(request, OrderStatus.REFUNDED)
