"""The merchant API under /api/v1/, with its OpenAPI schema and interactive docs (served locally)."""
from csp.decorators import csp_update
from django.urls import include, path
from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerSplitView
from rest_framework.permissions import AllowAny
from rest_framework.routers import DefaultRouter

from shop.api import inventory_views, views
from shop.api.schema_view import CachedSpectacularAPIView

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("products", views.ProductViewSet, basename="api-product")
router.register("categories", views.CategoryViewSet, basename="api-category")
router.register("orders", views.OrderViewSet, basename="api-order")
router.register("suppliers", inventory_views.SupplierViewSet, basename="api-supplier")
router.register("inventory-defaults", inventory_views.InventoryDefaultsViewSet, basename="api-inventory-defaults")
router.register("purchase-orders", inventory_views.PurchaseOrderViewSet, basename="api-purchase-order")
router.register("forecasts", inventory_views.ForecastViewSet, basename="api-forecast")
router.register("reorder-suggestions", inventory_views.ReorderSuggestionViewSet, basename="api-reorder-suggestion")

docs_views = {"authentication_classes": [], "permission_classes": [AllowAny], "throttle_classes": []}
# Redoc styles itself with <style> elements it creates at run time and parses the schema in a blob: worker.
redoc_csp = csp_update({"style-src": ["'unsafe-inline'"], "worker-src": ["blob:"]})

urlpatterns = [
    path("schema/", CachedSpectacularAPIView.as_view(**docs_views), name="api-schema"),
    # The split view serves Swagger UI's start-up script from a URL instead of inline (CSP).
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema", template_name="api/swagger_ui.html",
                                                      **docs_views), name="api-docs"),
    path("redoc/", redoc_csp(SpectacularRedocView.as_view(url_name="api-schema", template_name="api/redoc.html",
                                                          **docs_views)), name="api-redoc"),
    path("", include(router.urls)),
]
