"""django-filter filter sets of the merchant API. Every bound is validated (no 500 on odd values)."""
from __future__ import annotations

from datetime import UTC, datetime

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from shop.models import Category, Order, OrderStatus, Product


class SafeIsoDateTimeField(forms.DateTimeField):
    """ISO 8601 date-time; dates that cannot be converted (year 9999 with an offset) are form errors."""

    input_formats = [django_filters.fields.IsoDateTimeField.ISO_8601]

    def to_python(self, value):
        try:
            result = super().to_python(value)
            if result is not None:
                result.astimezone(UTC)  # what the database will be sent must exist
        except (OverflowError, ValueError):
            raise forms.ValidationError("Enter a valid ISO 8601 date-time.", code="invalid") from None
        return result

    def strptime(self, value: str, format: str) -> datetime:
        return datetime.fromisoformat(value)


@extend_schema_field(OpenApiTypes.DATETIME)
class SafeIsoDateTimeFilter(django_filters.Filter):
    field_class = SafeIsoDateTimeField


class StrictBooleanField(forms.Field):
    """`true`/`false` (or 1/0); anything else is an error, not silently ignored."""

    VALUES = {"true": True, "1": True, "false": False, "0": False}

    def to_python(self, value):
        if value in (None, ""):
            return None
        try:
            return self.VALUES[str(value).strip().lower()]
        except KeyError:
            raise forms.ValidationError("Use true or false.", code="invalid") from None


@extend_schema_field(OpenApiTypes.BOOL)
class StrictBooleanFilter(django_filters.Filter):
    field_class = StrictBooleanField


def price_filter(lookup: str, help_text: str) -> django_filters.NumberFilter:
    return django_filters.NumberFilter(
        field_name="price", lookup_expr=lookup, max_digits=12, decimal_places=2, min_value=0, help_text=help_text
    )


class ProductFilter(django_filters.FilterSet):
    category = django_filters.NumberFilter(
        method="filter_category", min_value=1, max_value=2**53,
        help_text="A category id: products in it or in any category below it.",
    )
    is_active = StrictBooleanFilter(help_text="true or false.")
    in_stock = StrictBooleanFilter(method="filter_in_stock", help_text="true: stock > 0; false: stock = 0.")
    min_price = price_filter("gte", "Price at least this.")
    max_price = price_filter("lte", "Price at most this.")
    updated_since = SafeIsoDateTimeFilter(
        field_name="updated_at", lookup_expr="gte", help_text="Changed at or after this ISO 8601 time."
    )
    sku = django_filters.CharFilter(max_length=64, help_text="Exact SKU.")

    class Meta:
        model = Product
        fields = ["category", "is_active", "in_stock", "min_price", "max_price", "updated_since", "sku"]

    def filter_category(self, queryset: QuerySet, name: str, value) -> QuerySet:
        category = Category.objects.filter(pk=int(value)).first()
        if category is None:
            return queryset.none()
        return queryset.filter(
            Q(category__path=category.path) | Q(category__path__startswith=f"{category.path}/")
        )

    def filter_in_stock(self, queryset: QuerySet, name: str, value: bool) -> QuerySet:
        return queryset.filter(stock__gt=0) if value else queryset.filter(stock=0)


class OrderFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(
        choices=OrderStatus.choices, method="filter_status",
        help_text="One or more statuses: of your part of the order (a merchant key), else of the whole order.",
    )
    placed_after = SafeIsoDateTimeFilter(field_name="placed_at", lookup_expr="gte",
                                         help_text="Placed at or after this ISO 8601 time.")
    placed_before = SafeIsoDateTimeFilter(field_name="placed_at", lookup_expr="lt",
                                          help_text="Placed before this ISO 8601 time.")

    class Meta:
        model = Order
        fields = ["status", "placed_after", "placed_before"]

    def filter_status(self, queryset: QuerySet, name: str, value: list[str]) -> QuerySet:
        if not value:
            return queryset
        annotated = "merchant_status" in queryset.query.annotations
        return queryset.filter(**{"merchant_status__in" if annotated else "status__in": value})
