"""Admin for replenishment: suppliers, reorder settings, purchase orders, and the reorder and overstock lists."""
from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from ai.forecast import chart
from ai.forecast import service as forecasts
from shop.admin_scope import MerchantScoped, MerchantScopedAdmin
from shop.exceptions import ShopError
from shop.models import (
    InventoryDefaults,
    LowStockDigestSent,
    Product,
    ProductInventory,
    PurchaseOrder,
    PurchaseOrderLine,
    Supplier,
)
from shop.services import demand_planning, purchasing, replenishment


@admin.register(Supplier)
class SupplierAdmin(MerchantScopedAdmin):
    list_display = ["name", "merchant", "email", "lead_time_days"]
    list_filter = [("merchant", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["name", "email"]


@admin.register(InventoryDefaults)
class InventoryDefaultsAdmin(MerchantScopedAdmin):
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
class ProductInventoryAdmin(MerchantScopedAdmin):
    merchant_lookup = "product__merchant"

    list_display = ["product", "supplier", "lead_time_days", "service_level", "min_order_qty", "pack_size", "unit_cost"]
    list_select_related = ["product", "supplier"]
    search_fields = ["product__title", "product__sku"]
    autocomplete_fields = ["product"]


class PurchaseOrderLineInline(MerchantScoped, admin.TabularInline):
    merchant_lookup = "order__merchant"
    model = PurchaseOrderLine
    extra = 0
    readonly_fields = ["received_quantity"]
    autocomplete_fields = ["product"]


@admin.register(PurchaseOrder)
class PurchaseOrderAdmin(MerchantScopedAdmin):
    list_display = ["__str__", "merchant", "supplier", "status", "created_at", "sent_at", "received_at"]
    list_filter = ["status", ("merchant", admin.RelatedOnlyFieldListFilter)]
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
            path("forecast/", self.admin_site.admin_view(self.group_forecast_view), name="shop_purchaseorder_forecasts"),
            path(
                "forecast/<int:product_id>/", self.admin_site.admin_view(self.product_forecast_view),
                name="shop_purchaseorder_forecast",
            ),
        ]
        return extra + super().get_urls()

    def _in_reach(self, request, rows: list) -> list:
        """The rows of the merchants the staff member may see (all of them for shop-wide staff)."""
        merchant_ids = self.merchant_ids(request)
        return rows if merchant_ids is None else [row for row in rows if row.product.merchant_id in merchant_ids]

    def reorder_view(self, request):
        if not request.user.has_perm("shop.view_product"):
            raise PermissionDenied
        if request.method == "POST":
            if not request.user.has_perm("shop.add_purchaseorder"):
                raise PermissionDenied
            return self._create_from_reorder_list(request)
        rows = self._in_reach(request, replenishment.reorder_list())
        context = {**self.admin_site.each_context(request), "title": "Reorder list", "rows": rows, "opts": self.model._meta}
        return TemplateResponse(request, "admin/shop/purchaseorder/reorder_list.html", context)

    def _create_from_reorder_list(self, request):
        selected = [int(pk) for pk in request.POST.getlist("product") if pk.isdigit()]
        rows = self._in_reach(request, replenishment.reorder_list(product_ids=selected))
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
        rows = self._in_reach(request, replenishment.overstock_list())
        context = {
            **self.admin_site.each_context(request), "title": "Overstock", "rows": rows, "opts": self.model._meta,
            "capital": sum((row.capital for row in rows), 0),
        }
        return TemplateResponse(request, "admin/shop/purchaseorder/overstock.html", context)

    def product_forecast_view(self, request, product_id: int):
        """One product's forecast chart (history, forecast, 80 / 95 % bands, stock projection, reorder point)
        with its reorder figures."""
        if not request.user.has_perm("shop.view_product"):
            raise PermissionDenied
        products = Product.objects.select_related("merchant", "category")
        merchant_ids = self.merchant_ids(request)
        if merchant_ids is not None:  # a staff member linked to merchants: only theirs
            products = products.filter(merchant_id__in=merchant_ids)
        product = get_object_or_404(products, pk=product_id)
        context = {
            **self.admin_site.each_context(request), "title": f"Demand forecast: {product.title}", "product": product,
            "opts": self.model._meta, **product_forecast_context(product),
        }
        return TemplateResponse(request, "admin/shop/purchaseorder/forecast.html", context)

    def group_forecast_view(self, request):
        """The shop's and each category's summed forecast (with intervals), for planning promotions."""
        if not request.user.has_perm("shop.view_product"):
            raise PermissionDenied
        total, groups = demand_planning.group_forecasts(self.merchant_ids(request))
        chosen = total
        wanted = request.GET.get("category")
        if wanted:
            chosen = next((group for group in groups if str(group.category_id) == wanted), None)
            if chosen is None:
                self.message_user(request, f"No forecast for category {wanted!r}: showing the whole shop.", messages.WARNING)
                chosen = total
        live = forecasts.live_forecasts()
        svg = chart.group_chart_svg(live, chosen.product_ids, title=f"{chosen.label}: units per day") if chosen and live else None
        context = {
            **self.admin_site.each_context(request), "title": "Demand forecasts by category", "opts": self.model._meta,
            "total": total, "groups": groups, "chosen": chosen, "chart": svg,
            "horizon": len(live.days) if live else 0, "origin": live.origin if live else None,
            "version": forecasts.live_version_label(),
        }
        return TemplateResponse(request, "admin/shop/purchaseorder/forecast_groups.html", context)


def product_forecast_context(product: Product) -> dict:
    """The chart and figures of a product's live forecast (both None without one), for the admin pages."""
    view = demand_planning.forecast_with_plan(product)
    if view is None:
        return {"forecast": None, "suggestion": None, "chart": None}
    suggestion = view.suggestion
    svg = chart.product_chart_svg(
        view.forecast,
        stock=suggestion.stock if suggestion else None,
        reorder_point=suggestion.plan.reorder_point if suggestion else None,
        title=f"{product.title} ({product.sku})",
    )
    return {"forecast": view.forecast, "suggestion": suggestion, "chart": svg, "version": forecasts.live_version_label()}
