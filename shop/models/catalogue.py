"""Merchants, the category tree and products."""
from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models

from shop.url_cache import cached_reverse


def product_url(pk: int, slug: str, reverse: Callable[..., str] = cached_reverse) -> str:
    """A product's page (`Product.get_absolute_url`) from its id and slug alone: for rows read without a
    model. `reverse`: `cached_reverse`, or `url_cache.bound_reverse()` when building many."""
    return reverse("shop:product", pk=pk, slug=slug)


def product_image_url(pk: int, title: str, image_url: str, reverse: Callable[..., str] = cached_reverse) -> str:
    """`Product.display_image_url` from the columns it depends on: the photo, or the product's placeholder."""
    from shop.placeholders import placeholder_url

    return image_url or placeholder_url(pk, title, reverse)


class Merchant(models.Model):
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=100, unique=True)
    users = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="merchants")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Category(models.Model):
    """A node of the category tree. `path` is the slug path from the root ("home/candles")."""

    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=100)
    path = models.CharField(max_length=500, unique=True, editable=False)
    depth = models.PositiveSmallIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["path"]
        verbose_name_plural = "categories"
        constraints = [models.UniqueConstraint(fields=["parent", "slug"], name="category_unique_slug_per_parent")]

    def __str__(self) -> str:
        return self.path

    def save(self, *args, **kwargs) -> None:
        old_path = self.path
        parent = self.parent if self.parent_id else None
        if parent is not None:
            self.path = f"{parent.path}/{self.slug}"
            self.depth = parent.depth + 1
        else:
            self.path = self.slug
            self.depth = 0
        super().save(*args, **kwargs)
        if old_path and old_path != self.path:
            # Keep descendants' paths true when a node moves or is renamed.
            for child in self.children.all():
                child.save()

    def get_absolute_url(self) -> str:
        return cached_reverse("shop:category", path=self.path)

    def ancestors(self) -> list[Category]:
        """Root-first list of ancestors, one query whatever the depth."""
        parts = self.path.split("/")
        paths = ["/".join(parts[: i + 1]) for i in range(len(parts) - 1)]
        by_path = {c.path: c for c in Category.objects.filter(path__in=paths)}
        return [by_path[p] for p in paths if p in by_path]

    def descendant_filter(self) -> models.Q:
        """A Q on Category matching this node and every node below it."""
        return models.Q(path=self.path) | models.Q(path__startswith=f"{self.path}/")


class ProductQuerySet(models.QuerySet):
    def active(self) -> ProductQuerySet:
        return self.filter(is_active=True)

    def in_stock(self) -> ProductQuerySet:
        return self.filter(stock__gt=0)


class Product(models.Model):
    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="products")
    category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.SET_NULL, related_name="products")
    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=220)
    description = models.TextField(blank=True)
    sku = models.CharField(max_length=64)
    price = models.DecimalField(max_digits=12, decimal_places=2, validators=[MinValueValidator(Decimal("0"))])
    currency = models.CharField(max_length=3, default="GBP")
    stock = models.IntegerField(default=0, validators=[MinValueValidator(0)])
    is_active = models.BooleanField(default=True)
    image_url = models.URLField(blank=True, max_length=500)
    # Units sold, kept by checkout with F(): the "popularity" sort and the bestsellers.
    units_sold = models.PositiveIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ProductQuerySet.as_manager()

    class Meta:
        ordering = ["title"]
        constraints = [
            models.UniqueConstraint(fields=["merchant", "sku"], name="product_unique_sku_per_merchant"),
            models.CheckConstraint(condition=models.Q(stock__gte=0), name="product_stock_not_negative"),
            models.CheckConstraint(condition=models.Q(price__gte=0), name="product_price_not_negative"),
        ]
        indexes = [
            models.Index(fields=["is_active", "category"]),
            models.Index(fields=["-units_sold"]),
            models.Index(fields=["price"]),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.sku})"

    def get_absolute_url(self) -> str:
        return product_url(self.pk, self.slug)

    @property
    def display_image_url(self) -> str:
        """The photo, or the product's own placeholder (the same on every page that shows it)."""
        return product_image_url(self.pk, self.title, self.image_url)

    @property
    def in_stock(self) -> bool:
        return self.stock > 0
