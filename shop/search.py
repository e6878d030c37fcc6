"""Product search: PostgreSQL full-text search with ranking, a simple substring match elsewhere.

Both branches take and return a Product queryset, so the view paginates and sorts the result the
same way on either database.
"""
from __future__ import annotations

from django.db import connection
from django.db.models import Case, F, IntegerField, Q, Value, When

from shop.models import Product
from shop.models.catalogue import ProductQuerySet

# Longer queries are cut: nobody types more, and it bounds the work a single request can ask for.
MAX_QUERY_LENGTH = 200
SEARCH_CONFIG = "english"


def normalise_query(raw: str | None) -> str:
    """Collapse whitespace, drop NUL characters (PostgreSQL refuses them) and cut to MAX_QUERY_LENGTH."""
    return " ".join((raw or "").replace("\x00", " ").split())[:MAX_QUERY_LENGTH]


def search_products(query: str, queryset: ProductQuerySet | None = None) -> ProductQuerySet:
    """Active products matching `query`, best match first.

    On PostgreSQL the title weighs more than the description (SearchRank over a weighted
    SearchVector, `websearch` syntax so quotes and `-word` work as people expect). On other
    databases every word must appear in the title or the description (case-insensitive).
    """
    query = normalise_query(query)
    qs = queryset if queryset is not None else Product.objects.active()
    if not query:
        return qs.none()
    if connection.vendor == "postgresql":
        return _postgres_search(qs, query)
    return _fallback_search(qs, query)


def _postgres_search(qs: ProductQuerySet, query: str) -> ProductQuerySet:
    from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector

    vector = SearchVector("title", weight="A", config=SEARCH_CONFIG) + SearchVector(
        "description", weight="B", config=SEARCH_CONFIG
    )
    search_query = SearchQuery(query, search_type="websearch", config=SEARCH_CONFIG)
    return (
        qs.annotate(search=vector, rank=SearchRank(vector, search_query))
        .filter(search=search_query)
        .order_by(F("rank").desc(), "-units_sold", "pk")
    )


def _fallback_search(qs: ProductQuerySet, query: str) -> ProductQuerySet:
    condition = Q()
    for word in query.split():
        condition &= Q(title__icontains=word) | Q(description__icontains=word)
    # Title matches first, then the bestsellers.
    first_word = query.split()[0]
    return (
        qs.filter(condition)
        .annotate(rank=Case(When(title__icontains=first_word, then=Value(1)), default=Value(0), output_field=IntegerField()))
        .order_by("-rank", "-units_sold", "pk")
    )
