"""Django admin for the shop. Order status changes and stock edits go through the services."""
from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.template.loader import render_to_string

from shop.admin_scope import MerchantScoped, MerchantScopedAdmin
from shop.exceptions import ForbiddenTransition
from shop.models import (
    ApiKey,
    Category,
    Merchant,
    Order,
    OrderLine,
    OrderPart,
    OrderStatus,
    OrderStatusChange,
    Product,
    StockAdjustment,
)
from shop.services.api_keys import create_api_key, revoke
from shop.services.orders import transition
from shop.services.stock import set_stock


@admin.register(Merchant)
class MerchantAdmin(MerchantScopedAdmin):
    merchant_lookup = "pk"
    list_display = ["name", "slug", "product_count", "created_at"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    filter_horizontal = ["users"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(product_count=Count("products"))

    def get_readonly_fields(self, request, obj=None):
        """Who works for a merchant is the superuser's to say: a linked staff member sees the list but can
        neither browse every account of the shop in the picker nor link anyone to (or unlink from) it."""
        readonly = list(super().get_readonly_fields(request, obj))
        return readonly if self.merchant_ids(request) is None else [*readonly, "users"]

    @admin.display(description="products", ordering="product_count")
    def product_count(self, obj: Merchant) -> int:
        return obj.product_count  # type: ignore[attr-defined]  # annotated by get_queryset


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["path", "name", "depth"]
    list_filter = ["depth"]
    search_fields = ["name", "path"]
    prepopulated_fields = {"slug": ["name"]}
    autocomplete_fields = ["parent"]
    readonly_fields = ["path", "depth"]


class ProductAdminForm(forms.ModelForm):
    """Posts back the stock the merchant was shown, so a sale made meanwhile is not mistaken for an edit."""

    class Meta:
        model = Product
        fields = "__all__"

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if "stock" in self.fields:
            self.fields["stock"].show_hidden_initial = True


@admin.register(Product)
class ProductAdmin(MerchantScopedAdmin):
    form = ProductAdminForm
    list_display = ["title", "sku", "merchant", "category", "price", "stock", "is_active", "units_sold", "updated_at"]
    list_editable = ["stock", "is_active"]
    list_filter = ["is_active", ("merchant", admin.RelatedOnlyFieldListFilter), ("category", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["merchant", "category"]
    search_fields = ["title", "sku"]
    prepopulated_fields = {"slug": ["title"]}
    autocomplete_fields = ["merchant", "category"]
    readonly_fields = ["units_sold", "created_at", "updated_at", "demand_forecast"]
    list_per_page = 50

    @admin.display(description="Demand forecast")
    def demand_forecast(self, obj: Product | None) -> str:
        """The live forecast's chart (history, forecast with 80 / 95 % bands, stock projection, reorder point)."""
        if obj is None or obj.pk is None:
            return "–"
        from shop.admin_inventory import product_forecast_context

        context = {"product": obj, **product_forecast_context(obj)}
        return render_to_string("admin/shop/product/demand_forecast.html", context)

    def get_changelist_form(self, request, **kwargs):
        kwargs.setdefault("form", ProductAdminForm)
        return super().get_changelist_form(request, **kwargs)

    def save_model(self, request, obj: Product, form, change: bool) -> None:
        """Save the edited fields only, and book a stock edit in the stock ledger.

        A full-row save would write back the stock read when the form was shown, undoing any sale
        made since; so stock is written only when the merchant changed the number shown (the form
        posts it back as a hidden initial value), under the row lock.
        """
        with transaction.atomic():
            if not change:
                opening_stock, obj.stock = obj.stock, 0
                super().save_model(request, obj, form, change)
                set_stock(obj, opening_stock, "opening stock", user=request.user)
                return
            other_fields = [name for name in form.changed_data if name != "stock"]
            if other_fields:
                obj.save(update_fields=[*other_fields, "updated_at"])
            if "stock" in form.changed_data:
                set_stock(obj, obj.stock, "Set in the admin", user=request.user)


class OrderLineInline(MerchantScoped, admin.TabularInline):
    """The lines of the order; a staff member linked to merchants sees only theirs."""

    model = OrderLine
    extra = 0
    can_delete = False
    readonly_fields = fields = ("product", "sku", "title", "unit_price", "quantity", "line_total")

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class OrderPartInline(MerchantScoped, admin.TabularInline):
    """Each merchant's part of the order, with its own fulfilment status (the order's is derived from them)."""

    model = OrderPart
    extra = 0
    can_delete = False
    readonly_fields = fields = ("merchant", "status", "updated_at")
    verbose_name = "merchant's part"
    verbose_name_plural = "fulfilment by merchant"

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class OrderStatusChangeInline(MerchantScoped, admin.TabularInline):
    """The order's history: a staff member linked to merchants sees the whole order's changes and their parts'."""

    model = OrderStatusChange
    extra = 0
    can_delete = False
    readonly_fields = fields = ("changed_at", "merchant", "from_status", "to_status", "changed_by", "actor", "note")
    verbose_name_plural = "status history"

    def limit_to_merchants(self, queryset: QuerySet, merchant_ids: list[int]) -> QuerySet:
        return queryset.filter(Q(merchant__isnull=True) | Q(merchant_id__in=merchant_ids))

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


def _transition_action(to_status: str, description: str):
    """An admin action moving each selected order (or order part) to `to_status` through the order pipeline.

    On an order it moves the parts the staff member may act on: every part for a superuser or shop-wide
    staff, only their merchants' parts for staff linked to merchants (as over the API); on an order part,
    that part only. The order's status is derived from its parts."""

    def action(modeladmin: MerchantScopedAdmin, request, queryset) -> None:
        done, refused = 0, []
        for obj in queryset.order_by("pk"):
            merchant_ids: list[int] | None
            if isinstance(obj, OrderPart):
                order, merchant_ids = obj.order, [obj.merchant_id]
            else:
                order, merchant_ids = obj, modeladmin.merchant_ids(request)
            try:
                transition(order, to_status, user=request.user, actor=f"admin: {request.user.get_username()}",
                           merchant_ids=merchant_ids)
            except ForbiddenTransition as error:
                refused.append(error.message)
            else:
                done += 1
        noun = queryset.model._meta.verbose_name
        if done:
            modeladmin.message_user(request, f"{done} {noun}(s) marked {to_status}.", messages.SUCCESS)
        for message in refused:
            modeladmin.message_user(request, message, messages.ERROR)

    action.__name__ = f"mark_{to_status}"
    return admin.action(description=description, permissions=["change"])(action)


def _transition_actions() -> list:
    return [
        _transition_action(OrderStatus.PAID, "Mark paid"),
        _transition_action(OrderStatus.SHIPPED, "Mark shipped"),
        _transition_action(OrderStatus.DELIVERED, "Mark delivered"),
        _transition_action(OrderStatus.CANCELLED, "Cancel (puts the stock back)"),
        _transition_action(OrderStatus.REFUNDED, "Refund"),
    ]


@admin.register(Order)
class OrderAdmin(MerchantScopedAdmin):
    list_display = ["number", "placed_at", "user", "email", "status", "total", "currency"]
    list_filter = ["status", "shipping_method", "payment_method"]
    list_select_related = ["user"]
    search_fields = ["number", "email", "user__username", "shipping_name", "shipping_postcode"]
    date_hierarchy = "placed_at"
    inlines = [OrderLineInline, OrderPartInline, OrderStatusChangeInline]
    # For staff linked to merchants, the actions move only their merchants' parts (see _transition_action).
    actions = _transition_actions()
    # Orders are made by checkout and changed by the status actions, never edited by hand.
    readonly_fields = [
        "number", "user", "email", "status", "currency", "subtotal", "shipping_cost", "total",
        "shipping_method", "payment_method", "placed_at", "updated_at",
    ]
    fieldsets = [
        (None, {"fields": ["number", "status", "user", "email", "placed_at", "updated_at"]}),
        ("Amounts", {"fields": ["currency", "subtotal", "shipping_cost", "total"]}),
        ("Delivery", {"fields": [
            "shipping_method", "payment_method", "shipping_name", "shipping_line1", "shipping_line2",
            "shipping_city", "shipping_postcode", "shipping_country",
        ]}),
    ]

    def limit_to_merchants(self, queryset: QuerySet, merchant_ids: list[int]) -> QuerySet:
        return queryset.filter(Exists(OrderLine.objects.filter(order=OuterRef("pk"), merchant_id__in=merchant_ids)))

    # The order's amounts sum every merchant's lines: staff linked to merchants see their own lines only.
    def get_list_display(self, request):
        fields = super().get_list_display(request)
        return fields if self.merchant_ids(request) is None else [f for f in fields if f != "total"]

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        return fieldsets if self.merchant_ids(request) is None else [fs for fs in fieldsets if fs[0] != "Amounts"]

    def has_add_permission(self, request) -> bool:
        return False

    def save_model(self, request, obj: Order, form, change: bool) -> None:
        # Only the address is editable: never write back a status read before a concurrent transition.
        if form.changed_data:
            obj.save(update_fields=[*form.changed_data, "updated_at"])


@admin.register(OrderPart)
class OrderPartAdmin(MerchantScopedAdmin):
    """Each merchant's part of the orders, moved on its own through the pipeline (the order's status follows)."""

    list_display = ["order", "merchant", "status", "order_status", "updated_at"]
    list_filter = ["status", ("merchant", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["order", "merchant"]
    search_fields = ["order__number", "merchant__name"]
    readonly_fields = fields = ("order", "merchant", "status", "updated_at")
    actions = _transition_actions()

    @admin.display(description="order status", ordering="order__status")
    def order_status(self, obj: OrderPart) -> str:
        return obj.order.get_status_display()

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ApiKey)
class ApiKeyAdmin(MerchantScopedAdmin):
    list_display = ["prefix", "name", "merchant", "scope", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["scope", ("revoked_at", admin.EmptyFieldListFilter), ("merchant", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["merchant"]
    search_fields = ["prefix", "name", "merchant__name"]
    actions = ["revoke_keys"]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["merchant", "name", "scope"]
        return ["prefix", "merchant", "name", "scope", "created_at", "last_used_at", "revoked_at"]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        # The key itself is fixed: to change its merchant or scope, create a new key and revoke this one.
        return ["prefix", "merchant", "scope", "created_at", "last_used_at", "revoked_at"]

    def save_model(self, request, obj: ApiKey, form, change: bool) -> None:
        if change:
            if form.changed_data:
                obj.save(update_fields=form.changed_data)
            return
        api_key, raw_key = create_api_key(obj.merchant, obj.scope, obj.name)
        obj.pk, obj.prefix, obj.hashed_key, obj.created_at = api_key.pk, api_key.prefix, api_key.hashed_key, api_key.created_at
        self.message_user(
            request,
            f"The new API key is {raw_key} — copy it now: it is stored hashed and cannot be shown again.",
            messages.WARNING,
        )

    @admin.action(description="Revoke selected keys", permissions=["change"])
    def revoke_keys(self, request, queryset) -> None:
        active = list(queryset.filter(revoked_at__isnull=True))
        for api_key in active:
            revoke(api_key)
        self.message_user(request, f"{len(active)} key(s) revoked.", messages.SUCCESS)


@admin.register(StockAdjustment)
class StockAdjustmentAdmin(MerchantScopedAdmin):
    merchant_lookup = "product__merchant"

    list_display = ["created_at", "product", "delta", "stock_after", "reason", "api_key", "user"]
    list_select_related = ["product", "api_key__merchant", "user"]
    search_fields = ["product__title", "product__sku", "reason"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
from shop import admin_inventory  # noqa: E402,F401  (suppliers, purchase orders, reorder and overstock lists)
