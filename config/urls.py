from django.conf import settings
from django.contrib import admin
from django.contrib.staticfiles.storage import staticfiles_storage
from django.urls import include, path
from django.views.generic import RedirectView

from config import health


class FaviconView(RedirectView):
    """Browsers ask for /favicon.ico on every page that names no icon (the admin, the API docs)."""

    permanent = True

    def get_redirect_url(self, *args, **kwargs) -> str:
        return staticfiles_storage.url("favicon.ico")


urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.ReadinessView.as_view(), name="readyz"),
    path("readyz/workers", health.WorkersView.as_view(), name="readyz-workers"),
    path("favicon.ico", FaviconView.as_view()),
    path("admin/", admin.site.urls),
    path("api/v1/", include("shop.api.urls")),
    path("api/v1/", include("ai.api.urls")),
    path("ai/", include("ai.urls")),
    path("", include("shop.urls")),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
