"""Merchant API keys, idempotency records and the stock-adjustment ledger."""
from __future__ import annotations

from django.conf import settings
from django.db import models


class ApiKey(models.Model):
    class Scope(models.TextChoices):
        READ = "read", "Read only"
        WRITE = "write", "Read and write"
        AI = "ai", "Read, write and AI training"

    merchant = models.ForeignKey("shop.Merchant", on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100, blank=True)
    prefix = models.CharField(max_length=16, unique=True, help_text="The first characters of the key, to recognise it.")
    hashed_key = models.CharField(max_length=128, editable=False)
    scope = models.CharField(max_length=8, choices=Scope.choices, default=Scope.READ)
    # Powers over the AI plug-in that only staff grant (in the admin or with create_api_key), beyond the scope.
    trusted_storefront = models.BooleanField(
        default=False,
        help_text="Trusted storefront backend: may ask for a shopper's personal recommendations (user= or visitor=).",
    )
    ai_model_control = models.BooleanField(
        default=False, help_text="May start and cancel training runs and promote or roll back the shop-wide models."
    )
    events_shop_wide = models.BooleanField(
        default=False, help_text="The events this key sends count in shop-wide popularity (off: only for their shopper)."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.merchant} {self.prefix}… ({self.scope})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class IdempotencyRecord(models.Model):
    """The first response to a creating request sent with an `Idempotency-Key` header."""

    api_key = models.ForeignKey(ApiKey, null=True, blank=True, on_delete=models.CASCADE)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=500)
    request_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    response_body = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["api_key", "user", "key", "method", "path"], name="idempotency_unique_key")
        ]


class StockAdjustment(models.Model):
    product = models.ForeignKey("shop.Product", on_delete=models.CASCADE, related_name="stock_adjustments")
    delta = models.IntegerField()
    stock_after = models.IntegerField()
    reason = models.CharField(max_length=200)
    api_key = models.ForeignKey(ApiKey, null=True, blank=True, on_delete=models.SET_NULL)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # Set by callers that may retry (a purchase order received twice): one ledger entry per reference.
    reference = models.CharField(max_length=100, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["product", "reference"], condition=~models.Q(reference=""), name="stock_adjustment_unique_reference"
            )
        ]
