"""The basket page and its POST actions (add, change quantity, remove), each redirecting after the POST."""
from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from shop.exceptions import ShopError
from shop.forms import AddToBasketForm, BasketQuantityForm, RemoveFromBasketForm
from shop.services import basket as basket_service

from .utils import first_error, safe_next


def basket_detail(request: HttpRequest) -> HttpResponse:
    basket = basket_service.get_basket(request)
    lines = basket_service.basket_lines(basket)
    for line in lines:
        # An attribute for the template only.
        line.form = BasketQuantityForm(initial={"product_id": line.product_id, "quantity": line.quantity})  # type: ignore[attr-defined]
    subtotal = sum((line.line_total for line in lines), Decimal("0.00"))
    context = {
        "basket": basket,
        "lines": lines,
        "subtotal": subtotal,
        "item_count": sum(line.quantity for line in lines),
        "currency": lines[0].product.currency if lines else "GBP",
    }
    return render(request, "shop/basket.html", context)


@require_POST
def basket_add(request: HttpRequest) -> HttpResponse:
    form = AddToBasketForm(request.POST)
    fallback = reverse("shop:basket")
    if not form.is_valid():
        messages.error(request, first_error(form))
        return redirect(safe_next(request, fallback))
    try:
        line = basket_service.add_to_basket(request, form.cleaned_data["product_id"], form.cleaned_data["quantity"])
    except ShopError as exc:
        messages.error(request, exc.message)
        return redirect(safe_next(request, fallback))
    quantity = form.cleaned_data["quantity"]
    messages.success(request, f"Added {quantity} × {line.product.title} to your basket.")
    return redirect(fallback)


@require_POST
def basket_update(request: HttpRequest) -> HttpResponse:
    form = BasketQuantityForm(request.POST)
    if not form.is_valid():
        messages.error(request, first_error(form))
        return redirect("shop:basket")
    try:
        basket_service.set_quantity(request, form.cleaned_data["product_id"], form.cleaned_data["quantity"])
    except ShopError as exc:
        messages.error(request, exc.message)
    else:
        if form.cleaned_data["quantity"] == 0:
            messages.success(request, "Removed the product from your basket.")
        else:
            messages.success(request, "Updated the quantity.")
    return redirect("shop:basket")


@require_POST
def basket_remove(request: HttpRequest) -> HttpResponse:
    form = RemoveFromBasketForm(request.POST)
    if not form.is_valid():
        messages.error(request, first_error(form))
        return redirect("shop:basket")
    try:
        basket_service.remove_from_basket(request, form.cleaned_data["product_id"])
    except ShopError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Removed the product from your basket.")
    return redirect("shop:basket")
