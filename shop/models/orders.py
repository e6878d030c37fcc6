"""Orders, their lines (a snapshot of prices at purchase) and the status history."""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse


class OrderStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    PAID = "paid", "Paid"
    SHIPPED = "shipped", "Shipped"
    DELIVERED = "delivered", "Delivered"
    CANCELLED = "cancelled", "Cancelled"
    REFUNDED = "refunded", "Refunded"


class Order(models.Model):
    number = models.CharField(max_length=32, unique=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="orders"
    )
    email = models.EmailField(blank=True)
    status = models.CharField(max_length=16, choices=OrderStatus.choices, default=OrderStatus.PENDING, db_index=True)
    currency = models.CharField(max_length=3, default="GBP")
    subtotal = models.DecimalField(max_digits=12, decimal_places=2)
    shipping_cost = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    total = models.DecimalField(max_digits=12, decimal_places=2)
    shipping_method = models.CharField(max_length=32, blank=True)
    payment_method = models.CharField(max_length=32, blank=True)
    shipping_name = models.CharField(max_length=200, blank=True)
    shipping_line1 = models.CharField(max_length=200, blank=True)
    shipping_line2 = models.CharField(max_length=200, blank=True)
    shipping_city = models.CharField(max_length=100, blank=True)
    shipping_postcode = models.CharField(max_length=20, blank=True)
    shipping_country = models.CharField(max_length=100, blank=True)
    placed_at = models.DateTimeField(db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-placed_at", "-pk"]
        indexes = [models.Index(fields=["user", "-placed_at"])]

    def __str__(self) -> str:
        return f"Order {self.number}"

    def get_absolute_url(self) -> str:
        return reverse("shop:order_detail", kwargs={"number": self.number})


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey("shop.Product", null=True, blank=True, on_delete=models.SET_NULL, related_name="order_lines")
    merchant = models.ForeignKey("shop.Merchant", on_delete=models.PROTECT, related_name="order_lines")
    sku = models.CharField(max_length=64)
    title = models.CharField(max_length=200)
    unit_price = models.DecimalField(max_digits=12, decimal_places=2)
    quantity = models.PositiveIntegerField()
    line_total = models.DecimalField(max_digits=12, decimal_places=2)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.title}"


class OrderPart(models.Model):
    """One merchant's share of an order (its lines), with its own fulfilment status.

    Each merchant ships, delivers, cancels or refunds only its part; the order's `status` is derived
    from its parts (shop.services.orders.derive_status). Orders stored without parts (imports) get
    them, with the order's status, the first time they move through the pipeline.
    """

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="parts")
    merchant = models.ForeignKey("shop.Merchant", on_delete=models.PROTECT, related_name="order_parts")
    status = models.CharField(max_length=16, choices=OrderStatus.choices, default=OrderStatus.PENDING, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["order", "merchant_id"]
        constraints = [models.UniqueConstraint(fields=["order", "merchant"], name="order_part_unique_merchant")]

    def __str__(self) -> str:
        return f"{self.order.number} / {self.merchant}"


class OrderStatusChange(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(max_length=16, choices=OrderStatus.choices, blank=True)
    to_status = models.CharField(max_length=16, choices=OrderStatus.choices)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The merchant whose part of the order changed; empty when the whole order moved at once.
    merchant = models.ForeignKey("shop.Merchant", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    # Free text naming who or what made the change when it was not a user ("api key: erp", "demo loader").
    actor = models.CharField(max_length=200, blank=True)
    note = models.CharField(max_length=500, blank=True)
    changed_at = models.DateTimeField()

    class Meta:
        ordering = ["changed_at", "pk"]
