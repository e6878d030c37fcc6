from django.apps import apps
from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    # ai: the beacon and the privacy page, and its API under the shop's API prefix.
    path("ai/", include("ai.urls")),
    path("api/", include("ai.api.urls")),
    path("", include(apps.get_app_config("oscar").urls[0])),
]
