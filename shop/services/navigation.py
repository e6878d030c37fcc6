"""The storefront's category bar: the top-level categories, on every page.

They change rarely, and every storefront page needs them: kept in Django's cache (Redis, failing open to
each process's memory) and forgotten whenever a category is saved or deleted, so the bar is never stale.
"""
from __future__ import annotations

from django.core.cache import cache
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from shop.models import Category

CACHE_KEY = "shop:top-categories:v1"
CACHE_SECONDS = 3600


def top_categories() -> list[Category]:
    """The top-level categories by name (one query, then none until a category changes)."""
    categories = cache.get(CACHE_KEY)
    if categories is None:
        categories = list(Category.objects.filter(depth=0).order_by("name"))
        cache.set(CACHE_KEY, categories, CACHE_SECONDS)
    return categories


@receiver(post_save, sender=Category, dispatch_uid="shop.navigation.saved")
@receiver(post_delete, sender=Category, dispatch_uid="shop.navigation.deleted")
def forget_top_categories(**kwargs) -> None:
    cache.delete(CACHE_KEY)
