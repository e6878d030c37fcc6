"""Serializers of the merchant API's replenishment endpoints: suppliers, reorder settings (per product and
the merchant's defaults), purchase orders, demand forecasts and reorder suggestions.

Input serializers reject unknown and read-only fields (StrictFieldsMixin); the domain work is in
shop.services.purchasing and shop.services.replenishment.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from shop.api.serializers import MAX_STOCK, StrictFieldsMixin
from shop.models import (
    InventoryDefaults,
    Merchant,
    ProductInventory,
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseOrderReceipt,
    Supplier,
)

MAX_LEAD_DAYS = 365
MAX_LINES = 500
MAX_ID = 2**53


def service_level_field(**kwargs: Any) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=4, decimal_places=3, min_value=Decimal("0.5"), max_value=Decimal("0.999"),
                                    **kwargs)


def creating_merchant(context: dict[str, Any], attrs: dict[str, Any]) -> Merchant:
    """The merchant a new object belongs to: an API key's own; a staff session names it (`merchant`) and may
    only name a merchant it works for."""
    api_key = context.get("api_key")
    if api_key is not None:
        if "merchant" in attrs:
            raise serializers.ValidationError({"merchant": ["An API key creates for its own merchant."]})
        return api_key.merchant
    if "merchant" not in attrs:
        raise serializers.ValidationError({"merchant": ["Staff must name the merchant."]})
    allowed = context.get("merchant_ids")
    if allowed is not None and attrs["merchant"].pk not in allowed:
        raise serializers.ValidationError({"merchant": ["No merchant you work for has this slug."]})
    return attrs["merchant"]


def lead_time_field(**kwargs: Any) -> serializers.IntegerField:
    return serializers.IntegerField(min_value=0, max_value=MAX_LEAD_DAYS, **kwargs)


# --- suppliers ----------------------------------------------------------------------------------------
class SupplierSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    merchant: serializers.SlugRelatedField[Merchant] = serializers.SlugRelatedField(
        slug_field="slug", queryset=Merchant.objects.all(), required=False,
        help_text="Staff sessions only, when creating: the merchant's slug. API keys create for their own merchant.",
    )
    lead_time_days = lead_time_field(allow_null=True, required=False,
                                     help_text="Days from order to delivery; null: the merchant's default.")

    class Meta:
        model = Supplier
        fields = ["id", "merchant", "name", "email", "lead_time_days"]
        validators: list = []  # the name's uniqueness per merchant is checked in validate()

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if self.instance is None:
            attrs["merchant"] = creating_merchant(self.context, attrs)
        elif "merchant" in attrs and attrs["merchant"] != self.instance.merchant:
            raise serializers.ValidationError({"merchant": ["A supplier cannot move to another merchant."]})
        merchant = attrs.get("merchant", getattr(self.instance, "merchant", None))
        name = attrs.get("name", getattr(self.instance, "name", None))
        clash = Supplier.objects.filter(merchant=merchant, name=name)
        if self.instance is not None:
            clash = clash.exclude(pk=self.instance.pk)
        if clash.exists():
            raise serializers.ValidationError({"name": ["You already have a supplier with this name."]})
        return attrs


# --- reorder settings ---------------------------------------------------------------------------------
class EffectiveSettingsSerializer(serializers.Serializer):
    """What the reorder maths uses: the product's own value, else its supplier's lead time, else the default."""

    supplier = serializers.IntegerField(allow_null=True, source="supplier.pk", default=None)
    lead_time_days = serializers.IntegerField()
    service_level = serializers.FloatField()
    review_days = serializers.IntegerField()
    min_order_qty = serializers.IntegerField()
    pack_size = serializers.IntegerField()
    unit_cost = serializers.DecimalField(max_digits=12, decimal_places=2)


class ProductInventorySerializer(StrictFieldsMixin, serializers.ModelSerializer):
    """A product's own reorder settings; null fields take the merchant's defaults (see `effective`)."""

    product: serializers.PrimaryKeyRelatedField = serializers.PrimaryKeyRelatedField(read_only=True)
    supplier = serializers.PrimaryKeyRelatedField(queryset=Supplier.objects.all(), allow_null=True, required=False,
                                                  help_text="One of your suppliers' ids.")
    lead_time_days = lead_time_field(allow_null=True, required=False)
    service_level = service_level_field(allow_null=True, required=False,
                                        help_text="Target share of lead times without a stock-out, e.g. 0.95.")
    min_order_qty = serializers.IntegerField(min_value=0, max_value=MAX_STOCK, allow_null=True, required=False)
    pack_size = serializers.IntegerField(min_value=1, max_value=MAX_STOCK, allow_null=True, required=False)
    unit_cost = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=Decimal("0"), allow_null=True,
                                         required=False)
    effective = serializers.SerializerMethodField()

    class Meta:
        model = ProductInventory
        fields = ["product", "supplier", "lead_time_days", "service_level", "min_order_qty", "pack_size", "unit_cost",
                  "effective"]

    def validate_supplier(self, supplier: Supplier | None) -> Supplier | None:
        if supplier is not None and supplier.merchant_id != self.context["product"].merchant_id:
            raise serializers.ValidationError("Unknown supplier.")
        return supplier

    @extend_schema_field(EffectiveSettingsSerializer)
    def get_effective(self, inventory: ProductInventory) -> dict[str, Any]:
        from shop.services.replenishment import merchant_defaults, product_settings

        product = self.context["product"]
        product.inventory = inventory  # what was just saved (or the unsaved blank one)
        return dict(EffectiveSettingsSerializer(product_settings(product, merchant_defaults(product.merchant_id))).data)


class InventoryDefaultsSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    merchant: serializers.SlugRelatedField[Merchant] = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    lead_time_days = lead_time_field(required=False)
    service_level = service_level_field(required=False)
    review_days = lead_time_field(required=False, help_text="Days between two orders: what an order covers beyond the lead time.")
    min_order_qty = serializers.IntegerField(min_value=0, max_value=MAX_STOCK, required=False)
    pack_size = serializers.IntegerField(min_value=1, max_value=MAX_STOCK, required=False)
    overstock_days = serializers.IntegerField(min_value=1, max_value=3650, required=False,
                                              help_text="Stock covering more days of forecast demand is overstock.")

    class Meta:
        model = InventoryDefaults
        fields = ["merchant", "lead_time_days", "service_level", "review_days", "min_order_qty", "pack_size",
                  "overstock_days"]


# --- purchase orders ----------------------------------------------------------------------------------
class PurchaseOrderLineSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="product.sku", read_only=True)
    outstanding = serializers.IntegerField(read_only=True)

    class Meta:
        model = PurchaseOrderLine
        fields = ["id", "product", "sku", "quantity", "received_quantity", "outstanding", "unit_cost"]


class PurchaseOrderReceiptSerializer(serializers.ModelSerializer):
    quantities = serializers.DictField(child=serializers.IntegerField(), help_text="{line id: units received}")

    class Meta:
        model = PurchaseOrderReceipt
        fields = ["id", "quantities", "created_at"]


class PurchaseOrderSerializer(serializers.ModelSerializer):
    merchant: serializers.SlugRelatedField[Merchant] = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    supplier_name = serializers.CharField(source="supplier.name", read_only=True)
    lines = PurchaseOrderLineSerializer(many=True, read_only=True)
    receipts = PurchaseOrderReceiptSerializer(many=True, read_only=True)

    class Meta:
        model = PurchaseOrder
        fields = ["id", "number", "merchant", "supplier", "supplier_name", "status", "note", "lines", "receipts",
                  "created_at", "sent_at", "received_at", "updated_at"]


class LineInputSerializer(StrictFieldsMixin, serializers.Serializer):
    product = serializers.IntegerField(min_value=1, max_value=MAX_ID, help_text="One of your products' ids.")
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_STOCK)


def unique_products(lines: list[dict[str, Any]]) -> dict[int, int]:
    seen: dict[int, int] = {}
    for index, line in enumerate(lines):
        if line["product"] in seen:
            raise serializers.ValidationError({str(index): {"product": ["This product is on another line already."]}})
        seen[line["product"]] = line["quantity"]
    return seen


class PurchaseOrderWriteSerializer(StrictFieldsMixin, serializers.Serializer):
    """A draft: its supplier, its lines (all of them: an update replaces them) and a note."""

    supplier = serializers.IntegerField(min_value=1, max_value=MAX_ID, help_text="One of your suppliers' ids.")
    lines = serializers.ListField(child=LineInputSerializer(), allow_empty=False, max_length=MAX_LINES)
    note = serializers.CharField(max_length=500, allow_blank=True, required=False)

    def validate_supplier(self, value: int) -> Supplier:
        supplier = Supplier.objects.filter(pk=value, merchant_id__in=self.context["merchant_ids"]).first() \
            if self.context["merchant_ids"] is not None else Supplier.objects.filter(pk=value).first()
        if supplier is None:
            raise serializers.ValidationError("Unknown supplier.")
        return supplier

    def validate_lines(self, lines: list[dict[str, Any]]) -> dict[int, int]:
        return unique_products(lines)


class ReceiptLineSerializer(StrictFieldsMixin, serializers.Serializer):
    line = serializers.IntegerField(min_value=1, max_value=MAX_ID, help_text="A line id of this purchase order.")
    quantity = serializers.IntegerField(min_value=0, max_value=MAX_STOCK, help_text="Units delivered now.")


class ReceiveSerializer(StrictFieldsMixin, serializers.Serializer):
    lines = serializers.ListField(
        child=ReceiptLineSerializer(), required=False, allow_empty=False, max_length=MAX_LINES,
        help_text="Units delivered per line; leave out to receive everything outstanding.",
    )

    def validate_lines(self, lines: list[dict[str, Any]]) -> dict[int, int]:
        seen: dict[int, int] = {}
        for index, row in enumerate(lines):
            if row["line"] in seen:
                raise serializers.ValidationError({str(index): {"line": ["This line is listed twice."]}})
            seen[row["line"]] = row["quantity"]
        return seen


# --- forecasts and reorder suggestions ------------------------------------------------------------------
class ForecastQuerySerializer(serializers.Serializer):
    product = serializers.IntegerField(min_value=1, max_value=MAX_ID, required=False,
                                       help_text="One of your products' ids: its forecast only.")
    horizon = serializers.IntegerField(min_value=1, max_value=MAX_LEAD_DAYS, required=False,
                                       help_text="Calendar days from the forecast origin (default: all the model forecast).")

    def to_internal_value(self, data: Any) -> Any:
        # Query parameters: pagination and ordering ones belong to the list, not to this serializer.
        known = {name: data[name] for name in ("product", "horizon") if name in data}
        return super().to_internal_value(known)


class ForecastDaySerializer(serializers.Serializer):
    date = serializers.DateField()
    mean = serializers.FloatField(help_text="Point forecast (units).")
    lo80 = serializers.FloatField()
    hi80 = serializers.FloatField()
    lo95 = serializers.FloatField()
    hi95 = serializers.FloatField()


class ForecastSerializer(serializers.Serializer):
    product = serializers.IntegerField()
    sku = serializers.CharField()
    model = serializers.CharField(help_text="The model chosen for this product by its backtest, e.g. `autoets`.")
    model_version = serializers.IntegerField(help_text="The live `demand` version the forecast comes from.")
    abc_class = serializers.CharField()
    origin = serializers.DateField(help_text="The first forecast day.")
    horizon_days = serializers.IntegerField(help_text="Calendar days covered from the origin.")
    days = ForecastDaySerializer(many=True, help_text="Open days only: the shop sells nothing on closed days.")


class ReorderSuggestionSerializer(serializers.Serializer):
    product = serializers.IntegerField(source="product.pk")
    sku = serializers.CharField(source="product.sku")
    title = serializers.CharField(source="product.title")
    supplier = serializers.IntegerField(source="settings.supplier.pk", allow_null=True, default=None)
    stock = serializers.IntegerField()
    on_order = serializers.IntegerField(help_text="Units on purchase orders not yet received (drafts included).")
    lead_time_days = serializers.IntegerField(source="settings.lead_time_days")
    service_level = serializers.FloatField(source="settings.service_level")
    reorder_point = serializers.FloatField(source="plan.reorder_point",
                                           help_text="Lead-time demand plus safety stock: order when stock plus on order is at or below it.")
    order_up_to = serializers.FloatField(source="plan.order_up_to")
    safety_stock = serializers.FloatField(source="plan.safety_stock")
    days_of_cover = serializers.FloatField(source="cover_days", allow_null=True,
                                           help_text="Calendar days the stock lasts at the forecast; null: beyond any horizon.")
    stockout_date = serializers.DateField(allow_null=True)
    urgency_days = serializers.FloatField(allow_null=True, help_text="Days of cover minus lead time: negative runs out before an order arrives.")
    suggested_quantity = serializers.IntegerField(source="plan.suggested_quantity",
                                                  help_text="Up to the order-up-to level, at least the minimum, whole packs; 0 when not due.")
    due = serializers.BooleanField(help_text="At or below the reorder point.")
    revenue_at_risk_per_day = serializers.FloatField(source="plan.revenue_at_risk_per_day")
    model = serializers.CharField()
    forecast_origin = serializers.DateField(source="origin")

    def to_representation(self, instance: Any) -> dict[str, Any]:
        data = super().to_representation(instance)
        for name in ("reorder_point", "order_up_to", "safety_stock", "days_of_cover", "urgency_days", "revenue_at_risk_per_day"):
            if data[name] is not None:
                data[name] = round(data[name], 3)
        return data


class SuggestionQuerySerializer(serializers.Serializer):
    due = serializers.BooleanField(required=False, help_text="true: only products at or below their reorder point.")
    product = serializers.IntegerField(min_value=1, max_value=MAX_ID, required=False)

    def to_internal_value(self, data: Any) -> Any:
        known = {name: data[name] for name in ("due", "product") if name in data}
        return super().to_internal_value(known)

