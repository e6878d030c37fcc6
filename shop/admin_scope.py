"""The admin's merchant scope: a non-superuser staff member linked to merchants (`Merchant.users`) sees,
chooses and changes only those merchants' records, as over the API (shop.services.staff, one rule)."""
from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet

from shop.models import Merchant, Product, Supplier
from shop.services.staff import staff_merchant_ids

# What a foreign key may offer a limited staff member: the related model's rows of their merchants.
_CHOICES: dict[type, str] = {Merchant: "pk", Product: "merchant", Supplier: "merchant"}


class MerchantScoped:
    """Mixin for ModelAdmin and inlines. `merchant_lookup` is the path from the model to its merchant
    (None for a model that needs its own `limit_to_merchants`)."""

    merchant_lookup: str | None = "merchant"

    def merchant_ids(self, request) -> list[int] | None:
        return staff_merchant_ids(request.user)

    def limit_to_merchants(self, queryset: QuerySet, merchant_ids: list[int]) -> QuerySet:
        return queryset.filter(**{f"{self.merchant_lookup}__in": merchant_ids})

    def get_queryset(self, request) -> QuerySet:
        queryset = super().get_queryset(request)  # type: ignore[misc]
        merchant_ids = self.merchant_ids(request)
        return queryset if merchant_ids is None else self.limit_to_merchants(queryset, merchant_ids)

    def formfield_for_foreignkey(self, db_field, request, **kwargs: Any):
        merchant_ids = self.merchant_ids(request)
        related = db_field.remote_field.model
        if merchant_ids is not None and related in _CHOICES and "queryset" not in kwargs:
            kwargs["queryset"] = related._default_manager.filter(**{f"{_CHOICES[related]}__in": merchant_ids})
        return super().formfield_for_foreignkey(db_field, request, **kwargs)  # type: ignore[misc]


class MerchantScopedAdmin(MerchantScoped, admin.ModelAdmin):
    pass
