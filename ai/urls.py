from django.urls import path

from . import views

app_name = "ai"
urlpatterns = [
    path("beacon/", views.beacon_view, name="beacon"),
    path("privacy/", views.privacy_view, name="privacy"),
]
