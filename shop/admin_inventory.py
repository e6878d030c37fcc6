"""Admin for replenishment: suppliers, reorder settings, purchase orders, and the reorder and overstock lists."""
from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from shop.exceptions import ShopError
from shop.models import (
    InventoryDefaults,
    LowStockDigestSent,
    ProductInventory,
    PurchaseOrder,
    PurchaseOrderLine,
    Supplier,
)
from shop.services import purchasing, replenishment


@admin.register(Supplier)
class SupplierAdmin(admin.ModelAdmin):
    list_display = ["name", "merchant", "email", "lead_time_days"]
    list_filter = ["merchant"]
    search_fields = ["name", "email"]


@admin.register(InventoryDefaults)
class InventoryDefaultsAdmin(admin.ModelAdmin):
    list_display = ["merchant", "lead_time_days", "service_level", "review_days", "min_order_qty", "pack_size", "overstock_days"]
    filter_horizontal = ["low_stock_digest"]


@admin.register(LowStockDigestSent)
class LowStockDigestSentAdmin(admin.ModelAdmin):
    """Who got the daily low-stock e-mail, and when (written by shop.services.low_stock_digest only)."""

    list_display = ["day", "user", "products", "sent_at"]
    list_filter = ["day"]
    list_select_related = ["user"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ProductInventory)
class ProductInventoryAdmin(admin.ModelAdmin):
    list_display = ["product", "supplier", "lead_time_days", "service_level", "min_order_qty", "pack_size", "unit_cost"]
    list_select_related = ["product", "supplier"]
    search_fields = ["product__title", "product__sku"]
    autocomplete_fields = ["product"]


class PurchaseOrderLineInline(admin.TabularInline):
    model = PurchaseOrderLine
    extra = 0
    readonly_fields = ["received_quantity"]
    autocomplete_fields = ["product"]


@admin.register(PurchaseOrder)
class PurchaseOrderAdmin(admin.ModelAdmin):
    list_display = ["__str__", "merchant", "supplier", "status", "created_at", "sent_at", "received_at"]
    list_filter = ["status", "merchant"]
    readonly_fields = ["status", "created_by", "created_at", "sent_at", "received_at"]
    inlines = [PurchaseOrderLineInline]
    actions = ["send_orders", "cancel_orders", "receive_outstanding"]
    change_list_template = "admin/shop/purchaseorder/change_list.html"

    def _each(self, request, queryset, work, done: str) -> None:
        count = 0
        for order in queryset:
            try:
                work(order)
                count += 1
            except ShopError as exc:
                self.message_user(request, exc.message, messages.ERROR)
        if count:
            self.message_user(request, f"{count} purchase order(s) {done}.", messages.SUCCESS)

    @admin.action(description="Send the selected drafts", permissions=["change"])
    def send_orders(self, request, queryset) -> None:
        self._each(request, queryset, purchasing.send, "sent")

    @admin.action(description="Cancel the selected drafts", permissions=["change"])
    def cancel_orders(self, request, queryset) -> None:
        self._each(request, queryset, purchasing.cancel, "cancelled")

    @admin.action(description="Receive everything outstanding", permissions=["change"])
    def receive_outstanding(self, request, queryset) -> None:
        # One key per order and outstanding state: a double-submitted form books nothing twice.
        def work(order):
            state = "-".join(f"{line.pk}:{line.received_quantity}" for line in order.lines.all())
            purchasing.receive(order, None, key=f"admin:{state}", user=request.user)

        self._each(request, queryset, work, "received")

    def get_urls(self):
        extra = [
            path("reorder/", self.admin_site.admin_view(self.reorder_view), name="shop_purchaseorder_reorder"),
            path("overstock/", self.admin_site.admin_view(self.overstock_view), name="shop_purchaseorder_overstock"),
        ]
        return extra + super().get_urls()

    def reorder_view(self, request):
        if not request.user.has_perm("shop.view_product"):
            raise PermissionDenied
        if request.method == "POST":
            if not request.user.has_perm("shop.add_purchaseorder"):
                raise PermissionDenied
            return self._create_from_reorder_list(request)
        rows = replenishment.reorder_list()
        context = {**self.admin_site.each_context(request), "title": "Reorder list", "rows": rows, "opts": self.model._meta}
        return TemplateResponse(request, "admin/shop/purchaseorder/reorder_list.html", context)

    def _create_from_reorder_list(self, request):
        selected = [int(pk) for pk in request.POST.getlist("product") if pk.isdigit()]
        rows = replenishment.reorder_list(product_ids=selected)
        without = [row.product.sku for row in rows if row.settings.supplier is None]
        orders = purchasing.orders_from_suggestions(
            [(row.settings.supplier, row.product.pk, row.plan.suggested_quantity) for row in rows if row.settings.supplier],
            user=request.user,
        )
        if orders:
            self.message_user(request, f"Created {len(orders)} draft purchase order(s), one per supplier.", messages.SUCCESS)
        if without:
            self.message_user(request, f"No supplier set for: {', '.join(without)}", messages.WARNING)
        if not rows:
            self.message_user(request, "Select products on the reorder list first.", messages.WARNING)
        return redirect(reverse("admin:shop_purchaseorder_changelist"))

    def overstock_view(self, request):
        if not request.user.has_perm("shop.view_product"):
            raise PermissionDenied
        rows = replenishment.overstock_list()
        context = {
            **self.admin_site.each_context(request), "title": "Overstock", "rows": rows, "opts": self.model._meta,
            "capital": sum((row.capital for row in rows), 0),
        }
        return TemplateResponse(request, "admin/shop/purchaseorder/overstock.html", context)
