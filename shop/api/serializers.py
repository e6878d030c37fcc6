"""Serializers of the merchant API. Every input serializer rejects unknown and read-only fields."""
from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from shop.models import ApiKey, Category, Merchant, Order, OrderLine, OrderPart, OrderStatus, Product, StockAdjustment
from shop.services.product_upsert import default_slug

MAX_STOCK = 1_000_000_000
MAX_DESCRIPTION = 10_000
MAX_BULK_ROWS = 1000
CURRENCY_RE = re.compile(r"^[A-Z]{3}$")


# --- the error body (documentation only: exceptions.py builds it) ----------------------------------
class ApiErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="A stable machine-readable name, e.g. `invalid`, `not_found`.")
    message = serializers.CharField(help_text="A readable explanation.")
    # The error body's key is "fields"; as a declared field it only shadows Serializer.fields for mypy.
    fields = serializers.DictField(  # type: ignore[assignment]
        child=serializers.JSONField(),
        help_text="Per-field messages (lists of strings, or nested objects for rows of a batch).",
    )


class ApiErrorSerializer(serializers.Serializer):
    error = ApiErrorDetailSerializer()


# --- strictness ---------------------------------------------------------------------------------------
class StrictFieldsMixin(serializers.Serializer):
    """Reject fields the serializer does not know, and read-only ones, instead of ignoring them."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, Mapping):
            errors = {}
            for name in data:
                field = self.fields.get(name)
                if field is None:
                    errors[str(name)] = ["Unknown field."]
                elif field.read_only:
                    errors[str(name)] = ["This field is read-only."]
            if errors:
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)


def validate_currency(value: str) -> None:
    if not CURRENCY_RE.match(value):
        raise serializers.ValidationError("A three-letter ISO 4217 code in capitals, e.g. GBP.")


def price_field(**kwargs: Any) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=12, decimal_places=2, min_value=Decimal("0"), **kwargs)


# --- categories ---------------------------------------------------------------------------------------
class CategorySerializer(StrictFieldsMixin, serializers.ModelSerializer):
    # A declared field (the metaclass moves it off the class), not Field.parent: mypy cannot tell.
    parent = serializers.PrimaryKeyRelatedField(  # type: ignore[assignment]
        queryset=Category.objects.all(), allow_null=True, required=False
    )

    class Meta:
        model = Category
        fields = ["id", "name", "slug", "parent", "path", "depth"]
        read_only_fields = ["path", "depth"]
        validators: list = []

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        parent = attrs.get("parent", getattr(self.instance, "parent", None))
        slug = attrs.get("slug", getattr(self.instance, "slug", None))
        if (
            self.instance is not None
            and parent is not None
            and (parent.pk == self.instance.pk or parent.path.startswith(f"{self.instance.path}/"))
        ):
            raise serializers.ValidationError({"parent": ["A category cannot move below itself."]})
        clash = Category.objects.filter(parent=parent, slug=slug)
        if self.instance is not None:
            clash = clash.exclude(pk=self.instance.pk)
        if clash.exists():
            raise serializers.ValidationError({"slug": ["A sibling category already has this slug."]})
        path = f"{parent.path}/{slug}" if parent else (slug or "")
        if len(path) > 500:
            raise serializers.ValidationError({"slug": ["The category path would be over 500 characters."]})
        return attrs


# --- products -----------------------------------------------------------------------------------------
class ProductSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    """A product as merchants see it. Stock is changed through stock adjustments, not here."""

    merchant: serializers.SlugRelatedField[Merchant] = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    category = serializers.PrimaryKeyRelatedField(queryset=Category.objects.all(), allow_null=True, required=False)
    category_path = serializers.CharField(source="category.path", read_only=True, allow_null=True)
    slug = serializers.SlugField(max_length=220, required=False)
    description = serializers.CharField(max_length=MAX_DESCRIPTION, allow_blank=True, required=False)
    price = price_field()
    currency = serializers.CharField(max_length=3, required=False, validators=[validate_currency])
    stock = serializers.IntegerField(read_only=True)
    image_url = serializers.URLField(max_length=500, allow_blank=True, required=False)

    class Meta:
        model = Product
        fields = [
            "id", "merchant", "sku", "title", "slug", "description", "category", "category_path", "price",
            "currency", "stock", "is_active", "image_url", "units_sold", "created_at", "updated_at",
        ]
        read_only_fields = ["units_sold", "created_at", "updated_at"]
        validators: list = []  # SKU uniqueness per merchant is checked in validate()

    def target_merchant(self, attrs: dict[str, Any]) -> Merchant | None:
        return self.instance.merchant if self.instance is not None else attrs.get("merchant")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        merchant = self.target_merchant(attrs)
        sku = attrs.get("sku")
        if merchant is not None and sku is not None:
            clash = Product.objects.filter(merchant=merchant, sku=sku)
            if self.instance is not None:
                clash = clash.exclude(pk=self.instance.pk)
            if clash.exists():
                raise serializers.ValidationError({"sku": ["You already have a product with this SKU."]})
        if self.instance is None and not attrs.get("slug"):
            attrs["slug"] = default_slug(attrs.get("title", ""))
        return attrs

    def update(self, instance: Product, validated_data: dict[str, Any]) -> Product:
        """Write only the fields sent: a full-row save would write back the `stock` and `units_sold`
        read before a concurrent sale, undoing it (stock changes only through shop.services.stock)."""
        for name, value in validated_data.items():
            setattr(instance, name, value)
        instance.save(update_fields=[*validated_data, "updated_at"])
        instance.refresh_from_db(fields=["stock", "units_sold"])  # answer with the levels as they are now
        return instance


class ProductCreateSerializer(ProductSerializer):
    """Creating a product also sets its opening stock. Staff sessions name the merchant; keys may not."""

    merchant = serializers.SlugRelatedField(
        slug_field="slug", queryset=Merchant.objects.all(), required=False,
        help_text="Staff sessions only: the merchant's slug. API keys create for their own merchant.",
    )
    stock = serializers.IntegerField(min_value=0, max_value=MAX_STOCK, required=False, default=0)

    def target_merchant(self, attrs: dict[str, Any]) -> Merchant | None:
        api_key = self.context.get("api_key")
        if api_key is not None:
            if "merchant" in attrs:
                raise serializers.ValidationError({"merchant": ["An API key creates for its own merchant."]})
            attrs["merchant"] = api_key.merchant
        elif "merchant" not in attrs:
            raise serializers.ValidationError({"merchant": ["Staff must name the merchant."]})
        allowed = self.context.get("merchant_ids")
        if allowed is not None and attrs["merchant"].pk not in allowed:
            raise serializers.ValidationError({"merchant": ["No merchant you work for has this slug."]})
        return attrs["merchant"]


class BulkRowSerializer(StrictFieldsMixin, serializers.Serializer):
    sku = serializers.CharField(max_length=64)
    title = serializers.CharField(max_length=200, required=False)
    slug = serializers.SlugField(max_length=220, required=False)
    description = serializers.CharField(max_length=MAX_DESCRIPTION, allow_blank=True, required=False)
    category = serializers.IntegerField(min_value=1, max_value=2**53, allow_null=True, required=False,
                                        help_text="Category id.")
    price = price_field(required=False)
    currency = serializers.CharField(max_length=3, required=False, validators=[validate_currency])
    stock = serializers.IntegerField(min_value=0, max_value=MAX_STOCK, required=False,
                                     help_text="The stock level, set outright (recorded as an adjustment).")
    is_active = serializers.BooleanField(required=False)
    image_url = serializers.URLField(max_length=500, allow_blank=True, required=False)


class BulkUpsertSerializer(StrictFieldsMixin, serializers.Serializer):
    # many=True hands max_length to the ListSerializer it builds; the stubs type the child's arguments.
    rows = BulkRowSerializer(many=True, allow_empty=False, max_length=MAX_BULK_ROWS,  # type: ignore[call-arg]
                             help_text=f"1 to {MAX_BULK_ROWS} products, each identified by its SKU.")

    def to_internal_value(self, data: Any) -> Any:
        try:
            return super().to_internal_value(data)
        except serializers.ValidationError as exc:
            detail = exc.detail
            rows = detail.get("rows") if isinstance(detail, dict) else None
            if isinstance(detail, dict) and isinstance(rows, list) and any(isinstance(item, dict) for item in rows):
                detail["rows"] = {str(i): errors for i, errors in enumerate(rows) if errors}
            raise

    def validate_rows(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        errors: dict[str, dict[str, list[str]]] = {}
        first_row_of: dict[str, int] = {}
        for index, row in enumerate(rows):
            if row["sku"] in first_row_of:
                errors[str(index)] = {"sku": [f"Duplicate of row {first_row_of[row['sku']]}."]}
            first_row_of.setdefault(row["sku"], index)
        category_ids = {row["category"] for row in rows if row.get("category") is not None}
        known = set(Category.objects.filter(pk__in=category_ids).values_list("pk", flat=True))
        for index, row in enumerate(rows):
            if row.get("category") is not None and row["category"] not in known:
                errors.setdefault(str(index), {})["category"] = [f"No category with id {row['category']}."]
        if errors:
            raise serializers.ValidationError(errors)
        for row in rows:
            if "category" in row:
                row["category_id"] = row.pop("category")
        return rows


class BulkUpsertItemSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    sku = serializers.CharField()
    created = serializers.BooleanField()


class BulkUpsertResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    products = BulkUpsertItemSerializer(many=True)


# --- stock --------------------------------------------------------------------------------------------
class StockAdjustmentSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    delta = serializers.IntegerField(min_value=-MAX_STOCK, max_value=MAX_STOCK,
                                     help_text="Units to add (positive) or remove (negative); never zero.")
    reason = serializers.CharField(max_length=200, help_text="Why: a delivery, a stock count, damage…")
    product: serializers.PrimaryKeyRelatedField[Product] = serializers.PrimaryKeyRelatedField(read_only=True)
    api_key: serializers.SlugRelatedField[ApiKey] = serializers.SlugRelatedField(
        slug_field="prefix", read_only=True, allow_null=True
    )

    class Meta:
        model = StockAdjustment
        fields = ["id", "product", "delta", "stock_after", "reason", "api_key", "created_at"]
        read_only_fields = ["stock_after", "created_at"]

    def validate_delta(self, value: int) -> int:
        if value == 0:
            raise serializers.ValidationError("An adjustment of 0 changes nothing.")
        return value


# --- orders -------------------------------------------------------------------------------------------
class ShippingAddressSerializer(serializers.Serializer):
    name = serializers.CharField(source="shipping_name")
    line1 = serializers.CharField(source="shipping_line1")
    line2 = serializers.CharField(source="shipping_line2")
    city = serializers.CharField(source="shipping_city")
    postcode = serializers.CharField(source="shipping_postcode")
    country = serializers.CharField(source="shipping_country")


class OrderLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = OrderLine
        fields = ["id", "product", "sku", "title", "unit_price", "quantity", "line_total"]


class OrderPartSerializer(serializers.Serializer):
    merchant = serializers.CharField(source="merchant.slug", help_text="The merchant's slug.")
    status = serializers.ChoiceField(choices=OrderStatus.choices, help_text="This merchant's part of the order.")


class OrderSerializer(serializers.ModelSerializer):
    """An order as one merchant sees it: only their own lines, and what is needed to ship them.

    `status` is the caller's part of the order (its own fulfilment state); `order_status` is the whole
    order's, derived from every merchant's part; `parts` lists the parts the caller may see.
    """

    status = serializers.SerializerMethodField()
    order_status = serializers.ChoiceField(source="status", choices=OrderStatus.choices, read_only=True,
                                           help_text="The whole order's status, derived from its parts.")
    parts = serializers.SerializerMethodField()
    lines = serializers.SerializerMethodField()
    merchant_total = serializers.SerializerMethodField()
    shipping_address = ShippingAddressSerializer(source="*", read_only=True)

    class Meta:
        model = Order
        fields = [
            "number", "status", "order_status", "parts", "placed_at", "updated_at", "currency", "shipping_method",
            "shipping_address", "lines", "merchant_total",
        ]

    def _lines(self, order: Order) -> list[OrderLine]:
        return getattr(order, "visible_lines", None) or list(order.lines.all())

    def _parts(self, order: Order) -> list[OrderPart]:
        parts = getattr(order, "visible_parts", None)
        if parts is None:
            parts = list(order.parts.select_related("merchant"))
        # An order stored without parts (an import) shows its own status for each merchant's lines.
        merchants = {line.merchant_id: line.merchant for line in self._lines(order)}
        known = {part.merchant_id for part in parts}
        extra = [OrderPart(order=order, merchant=m, status=order.status) for pk, m in merchants.items() if pk not in known]
        return sorted([*parts, *extra], key=lambda part: part.merchant.slug)

    @extend_schema_field(serializers.ChoiceField(choices=OrderStatus.choices))
    def get_status(self, order: Order) -> str:
        parts = self._parts(order)
        return parts[0].status if len(parts) == 1 else order.status

    @extend_schema_field(OrderPartSerializer(many=True))
    def get_parts(self, order: Order) -> list[dict[str, Any]]:
        return list(OrderPartSerializer(self._parts(order), many=True).data)

    @extend_schema_field(OrderLineSerializer(many=True))
    def get_lines(self, order: Order) -> list[dict[str, Any]]:
        return list(OrderLineSerializer(self._lines(order), many=True).data)

    @extend_schema_field(serializers.DecimalField(max_digits=14, decimal_places=2))
    def get_merchant_total(self, order: Order) -> str:
        total = sum((line.line_total for line in self._lines(order)), Decimal("0.00"))
        return serializers.DecimalField(max_digits=14, decimal_places=2).to_representation(total)


class OrderActionSerializer(StrictFieldsMixin, serializers.Serializer):
    note = serializers.CharField(max_length=500, allow_blank=True, required=False, default="")
