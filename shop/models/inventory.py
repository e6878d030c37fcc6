"""Replenishment: suppliers, per-product reorder settings with per-merchant defaults, purchase orders."""
from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

SERVICE_LEVEL_VALIDATORS = [MinValueValidator(Decimal("0.5")), MaxValueValidator(Decimal("0.999"))]


class Supplier(models.Model):
    merchant = models.ForeignKey("shop.Merchant", on_delete=models.CASCADE, related_name="suppliers")
    name = models.CharField(max_length=200)
    email = models.EmailField(blank=True)
    lead_time_days = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Days from order to delivery; empty: the merchant's default."
    )

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["merchant", "name"], name="supplier_unique_name_per_merchant")]

    def __str__(self) -> str:
        return self.name


class InventoryDefaults(models.Model):
    """A merchant's defaults for products that do not set their own."""

    merchant = models.OneToOneField("shop.Merchant", on_delete=models.CASCADE, related_name="inventory_defaults")
    lead_time_days = models.PositiveSmallIntegerField(default=7, validators=[MaxValueValidator(365)])
    service_level = models.DecimalField(max_digits=4, decimal_places=3, default=Decimal("0.95"), validators=SERVICE_LEVEL_VALIDATORS)
    review_days = models.PositiveSmallIntegerField(
        default=7, validators=[MaxValueValidator(365)], help_text="Days between two orders: how much an order covers beyond the lead time."
    )
    min_order_qty = models.PositiveIntegerField(default=1)
    pack_size = models.PositiveIntegerField(default=1, validators=[MinValueValidator(1)])
    overstock_days = models.PositiveSmallIntegerField(default=90, help_text="Stock covering more days of forecast demand is overstock.")
    low_stock_digest = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="low_stock_digests",
        help_text="Staff who receive the daily low-stock e-mail for this merchant.",
    )

    class Meta:
        verbose_name_plural = "inventory defaults"
        constraints = [
            models.CheckConstraint(condition=Q(service_level__gt=0, service_level__lt=1), name="defaults_service_level_0_1"),
            models.CheckConstraint(condition=Q(pack_size__gte=1), name="defaults_pack_size_positive"),
        ]

    def __str__(self) -> str:
        return f"Inventory defaults of {self.merchant}"


class ProductInventory(models.Model):
    """A product's reorder settings; an empty field takes the merchant's default."""

    product = models.OneToOneField("shop.Product", on_delete=models.CASCADE, related_name="inventory")
    supplier = models.ForeignKey(Supplier, null=True, blank=True, on_delete=models.SET_NULL, related_name="products")
    lead_time_days = models.PositiveSmallIntegerField(null=True, blank=True, validators=[MaxValueValidator(365)])
    service_level = models.DecimalField(max_digits=4, decimal_places=3, null=True, blank=True, validators=SERVICE_LEVEL_VALIDATORS)
    min_order_qty = models.PositiveIntegerField(null=True, blank=True)
    pack_size = models.PositiveIntegerField(null=True, blank=True, validators=[MinValueValidator(1)])
    unit_cost = models.DecimalField(
        max_digits=12, decimal_places=2, null=True, blank=True, validators=[MinValueValidator(Decimal("0"))],
        help_text="What a unit costs from the supplier (capital tied up); empty: the price.",
    )

    class Meta:
        verbose_name_plural = "product inventory settings"
        constraints = [
            models.CheckConstraint(
                condition=Q(service_level__isnull=True) | Q(service_level__gt=0, service_level__lt=1),
                name="inventory_service_level_0_1",
            ),
            models.CheckConstraint(condition=Q(pack_size__isnull=True) | Q(pack_size__gte=1), name="inventory_pack_size_positive"),
        ]

    def __str__(self) -> str:
        return f"Inventory of {self.product}"


class PurchaseOrderStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SENT = "sent", "Sent"
    PARTLY_RECEIVED = "partly_received", "Partly received"
    RECEIVED = "received", "Received"
    CANCELLED = "cancelled", "Cancelled"


class PurchaseOrder(models.Model):
    merchant = models.ForeignKey("shop.Merchant", on_delete=models.PROTECT, related_name="purchase_orders")
    supplier = models.ForeignKey(Supplier, on_delete=models.PROTECT, related_name="purchase_orders")
    status = models.CharField(max_length=16, choices=PurchaseOrderStatus.choices, default=PurchaseOrderStatus.DRAFT, db_index=True)
    note = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"PO-{self.pk} ({self.supplier}, {self.get_status_display()})"

    @property
    def number(self) -> str:
        return f"PO-{self.pk}"


class PurchaseOrderLine(models.Model):
    order = models.ForeignKey(PurchaseOrder, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey("shop.Product", on_delete=models.PROTECT, related_name="purchase_order_lines")
    quantity = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    received_quantity = models.PositiveIntegerField(default=0)
    unit_cost = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["order", "product"], name="po_line_unique_product"),
            models.CheckConstraint(condition=Q(quantity__gte=1), name="po_line_quantity_positive"),
            models.CheckConstraint(condition=Q(received_quantity__lte=models.F("quantity")), name="po_line_not_over_received"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.product}"

    @property
    def outstanding(self) -> int:
        return self.quantity - self.received_quantity


class PurchaseOrderReceipt(models.Model):
    """One delivery booked against a purchase order; its key makes a retried request change nothing."""

    order = models.ForeignKey(PurchaseOrder, on_delete=models.CASCADE, related_name="receipts")
    key = models.CharField(max_length=100)
    quantities = models.JSONField(help_text="{line id: units received}")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    api_key = models.ForeignKey("shop.ApiKey", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]
        constraints = [models.UniqueConstraint(fields=["order", "key"], name="po_receipt_unique_key")]


class LowStockDigestSent(models.Model):
    """The daily low-stock e-mail sent to one person: at most one a day (the unique day makes it idempotent)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    products = models.PositiveIntegerField(help_text="Products listed in the e-mail.")
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-day", "pk"]
        constraints = [models.UniqueConstraint(fields=["user", "day"], name="low_stock_digest_once_a_day")]

    def __str__(self) -> str:
        return f"Low-stock digest to {self.user} on {self.day}"
