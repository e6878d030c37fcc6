"""Checkout (address, delivery, payment) and the order confirmation page."""
from __future__ import annotations

import math
from decimal import Decimal

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from shop.api.throttling import checkout_wait
from shop.exceptions import ShopError
from shop.forms import CheckoutForm
from shop.models import Order
from shop.payments import PROVIDERS
from shop.services import basket as basket_service
from shop.services.checkout import SHIPPING_METHODS, place_order
from shop.templatetags.shop_tags import money

from .utils import url_text

# Order numbers this browser placed as a guest, so that it (and only it) can see the confirmation.
SESSION_PLACED_ORDERS = "shop_placed_orders"


def _providers():
    return PROVIDERS.values() if isinstance(PROVIDERS, dict) else PROVIDERS


def _checkout_form(request: HttpRequest, currency: str) -> CheckoutForm:
    shipping_choices = [
        (code, f"{method.name} — {money(method.price, currency)}") for code, method in SHIPPING_METHODS.items()
    ]
    payment_choices = [(provider.code, provider.name) for provider in _providers()]
    initial = {"email": request.user.email} if request.user.is_authenticated else {}
    return CheckoutForm(
        request.POST or None, initial=initial, shipping_choices=shipping_choices, payment_choices=payment_choices
    )


def checkout(request: HttpRequest) -> HttpResponse:
    basket = basket_service.get_basket(request)
    lines = basket_service.basket_lines(basket)
    if basket is None or not lines:
        messages.info(request, "Your basket is empty: add something before checking out.")
        return redirect("shop:basket")
    currency = lines[0].product.currency
    form = _checkout_form(request, currency)
    status = 200
    if request.method == "POST" and form.is_valid() and (wait := checkout_wait(request)) is not None:
        minutes = max(1, math.ceil(wait / 60))
        form.add_error(None, f"Too many orders from this browser or network: please try again in {minutes} "
                             f"minute{'s' if minutes != 1 else ''}. Your basket is kept.")
        status = 429
    elif request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            order = place_order(
                basket=basket,
                user=request.user if request.user.is_authenticated else None,
                email=data["email"],
                address=data["address"],
                shipping_method=data["shipping_method"],
                payment_method=data["payment_method"],
                visitor_id=getattr(request, "visitor_id", "") if getattr(request, "ai_tracking", False) else "",
                ai_tracking=bool(getattr(request, "ai_tracking", False)),
            )
        except ShopError as exc:
            for field, message in exc.fields.items():
                if field in form.fields:
                    form.add_error(field, message)
            form.add_error(None, exc.message)
        else:
            placed = request.session.get(SESSION_PLACED_ORDERS, [])
            request.session[SESSION_PLACED_ORDERS] = [*placed[-19:], order.number]
            messages.success(request, f"Thank you! Your order {order.number} is placed.")
            return redirect("shop:order_confirmation", number=order.number)
    subtotal = sum((line.line_total for line in lines), Decimal("0.00"))
    context = {
        "form": form,
        "lines": lines,
        "subtotal": subtotal,
        "currency": currency,
        "shipping_methods": SHIPPING_METHODS,
    }
    if status == 200 and form.is_bound and form.errors:
        status = 400
    response = render(request, "shop/checkout.html", context, status=status)
    if status == 429:
        response["Retry-After"] = str(math.ceil(wait or 1.0))
    return response


def order_confirmation(request: HttpRequest, number: str) -> HttpResponse:
    order = get_object_or_404(Order, number=url_text(number))
    own = request.user.is_authenticated and order.user_id == request.user.pk
    if not own and number not in request.session.get(SESSION_PLACED_ORDERS, []):
        raise Http404("No such order")
    lines = list(order.lines.all())
    return render(request, "shop/confirmation.html", {"order": order, "lines": lines})
