"""The merchant API under /api/v1/, with its OpenAPI schema and interactive docs (served locally)."""
from django.urls import include, path
from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerView
from rest_framework.permissions import AllowAny
from rest_framework.routers import DefaultRouter

from shop.api import views
from shop.api.schema_view import CachedSpectacularAPIView

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("products", views.ProductViewSet, basename="api-product")
router.register("categories", views.CategoryViewSet, basename="api-category")
router.register("orders", views.OrderViewSet, basename="api-order")

docs_views = {"authentication_classes": [], "permission_classes": [AllowAny], "throttle_classes": []}

urlpatterns = [
    path("schema/", CachedSpectacularAPIView.as_view(**docs_views), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema", **docs_views), name="api-docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api-schema", **docs_views), name="api-redoc"),
    path("", include(router.urls)),
]
