"""Home, category listings, product pages and search."""
from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from ai import tracking
from ai.recs.page import mark_shown, whole_rows
from shop.forms import SORT_ORDERING, AddToBasketForm, ListingForm
from shop.models import Category, Product
from shop.search import normalise_query, search_products
from shop.services.navigation import top_categories
from shop.services.product_facts import product_facts

from .utils import paginate, url_text

BESTSELLER_COUNT = 8  # full rows of 4 or 2 (see .product-grid)
GRID_COLUMNS = (4, 2)  # .product-grid's columns in static/css/shop.css: wide screens, below 860 px


def home(request: HttpRequest) -> HttpResponse:
    categories = top_categories()
    bestsellers = list(
        Product.objects.active().in_stock().order_by("-units_sold", "-created_at", "pk")[:BESTSELLER_COUNT]
    )
    bestsellers = bestsellers[: whole_rows(len(bestsellers), GRID_COLUMNS)]  # a young shop: no ragged row
    mark_shown(request, (p.pk for p in bestsellers))  # the page's recommendation blocks will not repeat them
    return render(
        request, "shop/home.html", {"categories": categories, "top_categories": categories, "bestsellers": bestsellers}
    )


def _listing_notice(form: ListingForm, default_label: str = "the most popular products") -> str:
    if form.is_bound and "sort" in form.errors:
        return f"That sort order is not available, so {default_label} come first."
    return ""


def category_detail(request: HttpRequest, path: str) -> HttpResponse:
    category = get_object_or_404(Category, path=url_text(path).strip("/"))
    form = ListingForm(request.GET or None)
    sort = form.sort_value()
    products = Product.objects.active().filter(category__in=Category.objects.filter(category.descendant_filter()))
    if form.in_stock_only():
        products = products.in_stock()
    page, page_note = paginate(request, products.order_by(*SORT_ORDERING[sort]))
    context = {
        "category": category,
        "active_root": category.path.split("/")[0],
        "breadcrumbs": category.ancestors(),
        "subcategories": list(category.children.order_by("name")),
        "form": form,
        "sort": sort,
        "page": page,
        "products": page.object_list,
        "notices": [n for n in (_listing_notice(form), page_note) if n],
    }
    return render(request, "shop/category.html", context)


def product_detail(request: HttpRequest, pk: int, slug: str) -> HttpResponse:
    product = get_object_or_404(Product.objects.active().select_related("category", "merchant"), pk=pk)
    if slug != product.slug:
        return redirect(product, permanent=True)
    tracking.record(request, "view", product_id=product.pk)
    breadcrumbs = [*product.category.ancestors(), product.category] if product.category else []
    form = AddToBasketForm(initial={"product_id": product.pk, "quantity": 1})
    return render(
        request, "shop/product.html", {
            "product": product,
            "facts": product_facts(product),
            "breadcrumbs": breadcrumbs,
            "form": form,
            "active_root": product.category.path.split("/")[0] if product.category else "",
        }
    )


def search(request: HttpRequest) -> HttpResponse:
    query = normalise_query(request.GET.get("q"))
    form = ListingForm(request.GET or None, default_sort="relevance", extra_choices=[("relevance", "Best match")])
    sort = form.sort_value()
    products = search_products(query)
    if form.in_stock_only():
        products = products.in_stock()
    if sort != "relevance":
        products = products.order_by(*SORT_ORDERING[sort])
    page, page_note = paginate(request, products)
    if query:
        tracking.record(request, "search", query=query)
    notices = [n for n in (_listing_notice(form, "the best matches"), page_note) if n]
    context = {"query": query, "form": form, "sort": sort, "page": page, "products": page.object_list, "notices": notices}
    return render(request, "shop/search.html", context)
