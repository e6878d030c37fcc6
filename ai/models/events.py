"""What shoppers do, recorded for training and for measuring recommendations."""
from __future__ import annotations

from django.conf import settings
from django.db import models


class EventType(models.TextChoices):
    VIEW = "view", "Product view"
    SEARCH = "search", "Search"
    ADD_TO_CART = "add_to_cart", "Add to basket"
    REMOVE_FROM_CART = "remove_from_cart", "Remove from basket"
    PURCHASE = "purchase", "Purchase"
    REC_IMPRESSION = "rec_impression", "Recommendation impression"
    REC_CLICK = "rec_click", "Recommendation click"


class Event(models.Model):
    # Free-form up to 32 characters so that new types need no migration; EventType lists the known ones.
    event_type = models.CharField(max_length=32, db_index=True)
    visitor_id = models.CharField(max_length=64, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="ai_events"
    )
    # The shop's product id; not a foreign key, because the plug-in does not know the shop's models.
    product_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    query = models.CharField(max_length=200, blank=True)
    placement = models.CharField(max_length=64, blank=True)
    model_version = models.ForeignKey(
        "ai.ModelVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="events"
    )
    # Who sent it: "" for the shop's own pages and services, the API client's id (e.g. "key:3f2a91c0") for
    # events sent over the API. (The browser's session key is never stored.)
    source = models.CharField(max_length=64, blank=True, default="", db_index=True)
    # Whether it counts in shop-wide popularity: events from API clients do not, unless staff allowed it
    # (AI_API_EVENTS_IN_POPULARITY, or the client's events:shop_wide grant).
    shop_wide = models.BooleanField(default=True)
    # Order id for purchases, recommendation list id for impressions/clicks, quantities, prices…
    extra = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [
            models.Index(fields=["user", "created_at"]),
            models.Index(fields=["visitor_id", "created_at"]),
            models.Index(fields=["event_type", "created_at"]),
            models.Index(fields=["placement", "event_type", "created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.product_id or ''} by {self.user_id or self.visitor_id}"
