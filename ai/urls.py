from django.urls import path

from . import views
from .chat import views as chat_views

app_name = "ai"
urlpatterns = [
    path("beacon/", views.beacon_view, name="beacon"),
    path("privacy/", views.privacy_view, name="privacy"),
    path("chat/", chat_views.ConversationView.as_view(), name="chat"),
    path("chat/messages/", chat_views.MessagesView.as_view(), name="chat_messages"),
    path("chat/rating/", chat_views.RatingView.as_view(), name="chat_rating"),
]
