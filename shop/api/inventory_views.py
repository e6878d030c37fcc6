"""Replenishment over the merchant API: suppliers, reorder settings, purchase orders, demand forecasts and
reorder suggestions. Thin views: the work is in shop.services.purchasing and shop.services.replenishment.

Every queryset is scoped like the rest of the API (`MerchantScopedMixin`): a key sees its own merchant's
objects, staff the merchants they work for; anything else is simply not found (404).
"""
from __future__ import annotations

import hashlib

import django_filters
from django.db import transaction
from django.db.models import Prefetch, QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from shop.api import inventory_serializers as s
from shop.api.filters import StrictBooleanFilter
from shop.api.idempotency import HEADER, idempotent
from shop.api.permissions import IsApiKeyOrStaff, MethodScope, StaffModelPermissions, key_of
from shop.api.schema import IDEMPOTENCY_KEY, IDEMPOTENT_REPLAYED
from shop.api.views import AUTHENTICATION, THROTTLES, MerchantScopedMixin
from shop.models import (
    InventoryDefaults,
    Merchant,
    Product,
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseOrderStatus,
    Supplier,
)
from shop.services import purchasing, replenishment

IDEMPOTENT = [IDEMPOTENCY_KEY, IDEMPOTENT_REPLAYED]
PERMISSIONS = [IsApiKeyOrStaff, MethodScope, StaffModelPermissions]
RECEIPT_KEY = OpenApiParameter(
    HEADER, OpenApiTypes.STR, OpenApiParameter.HEADER, required=True,
    description="Required: a unique key per delivery. A retry with the same key and body books nothing again "
    "and returns the first response (with `Idempotent-Replayed: true`).",
)


# --- suppliers ----------------------------------------------------------------------------------------
@extend_schema_view(
    list=extend_schema(summary="List your suppliers"),
    retrieve=extend_schema(summary="Get a supplier"),
    create=extend_schema(summary="Create a supplier", parameters=IDEMPOTENT),
    update=extend_schema(summary="Replace a supplier"),
    partial_update=extend_schema(summary="Update some fields of a supplier"),
    destroy=extend_schema(summary="Delete a supplier",
                          description="Refused with 409 while purchase orders refer to it; its products keep "
                          "their settings without a supplier."),
)
class SupplierViewSet(MerchantScopedMixin, viewsets.ModelViewSet):
    authentication_classes = AUTHENTICATION
    throttle_classes = THROTTLES
    permission_classes = PERMISSIONS
    queryset = Supplier.objects.all()
    serializer_class = s.SupplierSerializer
    lookup_value_regex = "[0-9]+"
    filterset_fields: list[str] = []
    ordering_fields = ["id", "name"]
    ordering = ["name", "id"]

    def get_queryset(self) -> QuerySet[Supplier]:
        queryset = Supplier.objects.select_related("merchant")
        if self.merchant_ids is not None:
            queryset = queryset.filter(merchant_id__in=self.merchant_ids)
        return queryset

    def get_serializer_context(self) -> dict:
        return {**super().get_serializer_context(), "api_key": key_of(self.request), "merchant_ids": self.merchant_ids}

    @idempotent
    def create(self, request, *args, **kwargs):
        return super().create(request, *args, **kwargs)


# --- a merchant's defaults ------------------------------------------------------------------------------
@extend_schema_view(
    list=extend_schema(summary="List your merchant's reorder defaults",
                       description="One row per merchant in reach (an API key: its own). Products that do not "
                       "set a value take these."),
    retrieve=extend_schema(summary="Get a merchant's reorder defaults"),
    update=extend_schema(summary="Replace a merchant's reorder defaults"),
    partial_update=extend_schema(summary="Update some of a merchant's reorder defaults"),
)
class InventoryDefaultsViewSet(MerchantScopedMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                               mixins.UpdateModelMixin, viewsets.GenericViewSet):
    authentication_classes = AUTHENTICATION
    throttle_classes = THROTTLES
    permission_classes = PERMISSIONS
    queryset = Merchant.objects.all()
    serializer_class = s.InventoryDefaultsSerializer
    action_permissions = {
        "list": {"GET": ["shop.view_inventorydefaults"]},
        "retrieve": {"GET": ["shop.view_inventorydefaults"]},
        "update": {"PUT": ["shop.change_inventorydefaults"]},
        "partial_update": {"PATCH": ["shop.change_inventorydefaults"]},
    }
    lookup_field = "slug"
    lookup_url_kwarg = "merchant"
    lookup_value_regex = "[-a-zA-Z0-9_]{1,100}"
    filter_backends: list = []

    def get_queryset(self) -> QuerySet[Merchant]:
        queryset = Merchant.objects.select_related("inventory_defaults").order_by("slug")
        if self.merchant_ids is not None:
            queryset = queryset.filter(pk__in=self.merchant_ids)
        return queryset

    @staticmethod
    def defaults_of(merchant: Merchant) -> InventoryDefaults:
        try:
            return merchant.inventory_defaults
        except InventoryDefaults.DoesNotExist:
            return InventoryDefaults(merchant=merchant)

    def get_object(self) -> InventoryDefaults:  # the defaults of the merchant looked up
        merchant = super().get_object()
        if self.request.method in ("PUT", "PATCH"):
            return InventoryDefaults.objects.get_or_create(merchant=merchant)[0]
        return self.defaults_of(merchant)

    def list(self, request: Request, *args, **kwargs) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        data = s.InventoryDefaultsSerializer([self.defaults_of(m) for m in page or []], many=True).data
        return self.get_paginated_response(data)

    def update(self, request: Request, *args, **kwargs) -> Response:
        with transaction.atomic():
            return super().update(request, *args, **kwargs)


# --- purchase orders ----------------------------------------------------------------------------------
class PurchaseOrderFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=PurchaseOrderStatus.choices, help_text="One or more statuses.")
    supplier = django_filters.NumberFilter(min_value=1, max_value=s.MAX_ID, help_text="A supplier id.")
    open = StrictBooleanFilter(method="filter_open", help_text="true: drafts, sent and partly received orders.")

    class Meta:
        model = PurchaseOrder
        fields = ["status", "supplier", "open"]

    def filter_open(self, queryset: QuerySet, name: str, value: bool) -> QuerySet:
        pending = [PurchaseOrderStatus.DRAFT, *purchasing.RECEIVABLE]
        return queryset.filter(status__in=pending) if value else queryset.exclude(status__in=pending)


@extend_schema_view(
    list=extend_schema(summary="List your purchase orders", description="Newest first."),
    retrieve=extend_schema(summary="Get a purchase order"),
    create=extend_schema(summary="Create a draft purchase order", request=s.PurchaseOrderWriteSerializer,
                         responses={201: s.PurchaseOrderSerializer}, parameters=IDEMPOTENT,
                         description="Lines are your products; each line's unit cost is taken from the product's "
                         "reorder settings."),
    update=extend_schema(summary="Replace a draft", request=s.PurchaseOrderWriteSerializer,
                         responses={200: s.PurchaseOrderSerializer},
                         description="Only a draft can change (409 otherwise); its lines are replaced by those sent."),
    partial_update=extend_schema(summary="Update some fields of a draft", request=s.PurchaseOrderWriteSerializer,
                                 responses={200: s.PurchaseOrderSerializer},
                                 description="`lines`, when sent, replace all the draft's lines."),
    destroy=extend_schema(summary="Cancel a draft",
                          description="A draft is cancelled (kept, with status `cancelled`); nothing else changes. "
                          "Refused with 409 once it has been sent."),
)
class PurchaseOrderViewSet(MerchantScopedMixin, viewsets.ModelViewSet):
    authentication_classes = AUTHENTICATION
    throttle_classes = THROTTLES
    permission_classes = PERMISSIONS
    queryset = PurchaseOrder.objects.all()
    serializer_class = s.PurchaseOrderSerializer
    action_permissions = {
        "send": {"POST": ["shop.change_purchaseorder"]},
        "receive": {"POST": ["shop.change_purchaseorder"]},
    }
    lookup_value_regex = "[0-9]+"
    filterset_class = PurchaseOrderFilter
    ordering_fields = ["id", "created_at", "updated_at"]
    ordering = ["-created_at", "-id"]

    def get_queryset(self) -> QuerySet[PurchaseOrder]:
        queryset = PurchaseOrder.objects.select_related("merchant", "supplier").prefetch_related(
            Prefetch("lines", queryset=PurchaseOrderLine.objects.select_related("product").order_by("pk")),
            "receipts",
        )
        if self.merchant_ids is not None:
            queryset = queryset.filter(merchant_id__in=self.merchant_ids)
        return queryset

    def get_serializer_context(self) -> dict:
        return {**super().get_serializer_context(), "merchant_ids": self.merchant_ids}

    def _answer(self, order: PurchaseOrder, status_code: int = status.HTTP_200_OK) -> Response:
        return Response(s.PurchaseOrderSerializer(self.get_queryset().get(pk=order.pk)).data, status=status_code)

    def _body(self, partial: bool) -> dict:
        body = s.PurchaseOrderWriteSerializer(data=self.request.data, partial=partial, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        return dict(body.validated_data)

    @idempotent
    def create(self, request: Request, *args, **kwargs) -> Response:
        body = self._body(partial=False)
        order = purchasing.create_purchase_order(body["supplier"], body["lines"], user=request.user,
                                                 note=body.get("note", ""))
        return self._answer(order, status.HTTP_201_CREATED)

    def update(self, request: Request, *args, **kwargs) -> Response:
        order = self.get_object()
        body = self._body(partial=kwargs.get("partial", False))
        order = purchasing.update_draft(order, supplier=body.get("supplier"), quantities=body.get("lines"),
                                        note=body.get("note", None if kwargs.get("partial") else ""))
        return self._answer(order)

    def destroy(self, request: Request, *args, **kwargs) -> Response:
        purchasing.cancel(self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(summary="Send a draft to its supplier", request=None, responses={200: s.PurchaseOrderSerializer},
                   description="draft → sent; refused with 409 from any other status.")
    @action(detail=True, methods=["post"], filter_backends=[])
    def send(self, request: Request, pk: str | None = None) -> Response:
        return self._answer(purchasing.send(self.get_object()))

    @extend_schema(
        summary="Receive a delivery",
        description="Adds the units delivered to stock through the stock ledger (one adjustment per line) and moves "
        "the order to `partly_received` or `received`. Needs an `Idempotency-Key`: a retried request with the same "
        "key books nothing twice. More than is outstanding on a line is refused with 409 (`over_received`).",
        request=s.ReceiveSerializer, responses={200: s.PurchaseOrderSerializer}, parameters=[RECEIPT_KEY, IDEMPOTENT_REPLAYED],
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def receive(self, request: Request, pk: str | None = None) -> Response:
        self.get_object()  # another merchant's order is not found, whatever the request
        if not (request.headers.get(HEADER) or "").strip():
            raise ValidationError({HEADER: ["Receiving needs an Idempotency-Key (a retry sends the same key)."]})
        return self._receive(request)

    @idempotent
    def _receive(self, request: Request) -> Response:
        order = self.get_object()
        body = s.ReceiveSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        api_key = key_of(request)
        owner = f"key:{api_key.pk}" if api_key is not None else f"user:{request.user.pk}"
        # The receipt's own key (at most 100 characters) stands for this caller's Idempotency-Key.
        digest = hashlib.sha256(f"{owner}\n{request.headers[HEADER].strip()}".encode()).hexdigest()[:40]
        purchasing.receive(order, body.validated_data.get("lines"), key=f"api:{digest}",
                           user=None if api_key else request.user, api_key=api_key)
        return self._answer(order)


# --- forecasts and reorder suggestions ------------------------------------------------------------------
class ReadOnlyReplenishment(MerchantScopedMixin, viewsets.GenericViewSet):
    authentication_classes = AUTHENTICATION
    throttle_classes = THROTTLES
    permission_classes = PERMISSIONS
    queryset = Product.objects.all()
    action_permissions = {"list": {"GET": ["shop.view_product"]}}
    filter_backends: list = []

    def scoped_products(self) -> QuerySet[Product]:
        queryset = Product.objects.all()
        if self.merchant_ids is not None:
            queryset = queryset.filter(merchant_id__in=self.merchant_ids)
        return queryset

    def own_product(self, product_id: int) -> Product:
        product = self.scoped_products().filter(pk=product_id).first()
        if product is None:
            raise NotFound(f"You have no product with id {product_id}.")
        return product


@extend_schema_view(list=extend_schema(
    summary="Demand forecasts of your products",
    description="From the live `demand` model: per product and open day, the point forecast with 80 and 95 % "
    "prediction intervals, the model chosen for the product and the model version. Products never sold have "
    "none; `?product=` naming one of them answers 404 (`no_forecast`).",
    parameters=[s.ForecastQuerySerializer], responses=s.ForecastSerializer(many=True),
))
class ForecastViewSet(ReadOnlyReplenishment):
    serializer_class = s.ForecastSerializer

    def list(self, request: Request) -> Response:
        query = s.ForecastQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        horizon = query.validated_data.get("horizon")
        live = replenishment.live_demand()
        if "product" in query.validated_data:
            product = self.own_product(query.validated_data["product"])
            products = self.scoped_products().filter(pk=product.pk)
            replenishment.product_forecast(live, product, horizon)  # 404 for a product without a forecast
        else:
            products = self.scoped_products().filter(pk__in=live.forecasts.product_ids if live else [])
        page = self.paginate_queryset(products.order_by("pk"))
        rows = [replenishment.product_forecast(live, product, horizon) for product in page or []]
        return self.get_paginated_response(s.ForecastSerializer(rows, many=True).data)


@extend_schema_view(list=extend_schema(
    summary="Reorder suggestions for your products",
    description="Every active product with a forecast: reorder point and order-up-to level from the forecast's "
    "lead-time demand and its error quantiles, days of cover, projected stock-out date and the suggested order "
    "quantity (rounded up to whole packs, at least the minimum order). Most urgent first (days of cover minus lead "
    "time), then by revenue at risk per day. `?due=true`: only products at or below their reorder point.",
    parameters=[s.SuggestionQuerySerializer], responses=s.ReorderSuggestionSerializer(many=True),
))
class ReorderSuggestionViewSet(ReadOnlyReplenishment):
    serializer_class = s.ReorderSuggestionSerializer

    def list(self, request: Request) -> Response:
        query = s.SuggestionQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        products = self.scoped_products()
        if "product" in query.validated_data:
            products = products.filter(pk=self.own_product(query.validated_data["product"]).pk)
        rows = replenishment.suggestions(products.values_list("pk", flat=True), due=query.validated_data.get("due"))
        page: list | None = self.paginate_queryset(rows)  # type: ignore[arg-type]  # DRF's pagination pages a list too
        return self.get_paginated_response(s.ReorderSuggestionSerializer(page, many=True).data)
