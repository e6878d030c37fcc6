"""Checkout, confirmation and the errors a shopper can meet on the way."""
from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from shop.models import BasketLine, Order, Product

from .conftest import basket_of, make_order

ADDRESS = {
    "email": "guest@example.com",
    "name": "Grace Guest",
    "line1": "1 Market Street",
    "line2": "",
    "city": "Bath",
    "postcode": "BA1 1AA",
    "country": "United Kingdom",
    "shipping_method": "standard",
    "payment_method": "pay_on_delivery",
}


def add(client, product, quantity=2):
    return client.post(reverse("shop:basket_add"), {"product_id": product.pk, "quantity": quantity})


def test_checkout_page_shows_methods_and_summary(client, product):
    add(client, product)

    response = client.get(reverse("shop:checkout"))

    assert response.status_code == 200
    html = response.content.decode()
    assert 'value="standard"' in html and 'value="express"' in html and "£3.95" in html
    assert 'value="pay_on_delivery"' in html
    assert 'autocomplete="postal-code"' in html
    assert "2 × Glass Star Candle Holder" in html


def test_empty_basket_cannot_check_out(client, db):
    response = client.get(reverse("shop:checkout"))

    assert response.status_code == 302 and response["Location"] == reverse("shop:basket")


def test_guest_checkout_places_the_order_and_shows_the_confirmation(client, product):
    add(client, product)

    response = client.post(reverse("shop:checkout"), ADDRESS)

    order = Order.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("shop:order_confirmation", kwargs={"number": order.number})
    assert (order.email, order.user, order.shipping_city, order.total) == (
        "guest@example.com", None, "Bath", Decimal("8.50") + Decimal("3.95")
    )
    assert Product.objects.get(pk=product.pk).stock == 8
    assert BasketLine.objects.count() == 0

    page = client.get(response["Location"])
    assert page.status_code == 200
    html = page.content.decode()
    assert order.number in html and "£12.45" in html and "Grace Guest" in html


def test_signed_in_checkout_uses_the_account(client, product, user):
    client.force_login(user)
    add(client, product, 1)
    data = {**ADDRESS, "email": "", "shipping_method": "express"}
    page = client.get(reverse("shop:checkout"))
    assert 'value="alice@example.com"' in page.content.decode()

    response = client.post(reverse("shop:checkout"), {**data, "email": "alice@example.com"})

    order = Order.objects.get()
    assert response.status_code == 302
    assert order.user == user and order.shipping_cost == Decimal("8.95")
    assert client.get(response["Location"]).status_code == 200


@pytest.mark.parametrize("missing", ["email", "name", "line1", "city", "postcode", "country", "shipping_method", "payment_method"])
def test_incomplete_address_is_a_form_error_and_nothing_is_stored(client, product, missing):
    add(client, product)
    data = {k: v for k, v in ADDRESS.items() if k != missing}

    response = client.post(reverse("shop:checkout"), data)

    assert response.status_code == 400
    assert missing in response.context["form"].errors
    assert "Please correct the highlighted fields" in response.content.decode()
    assert Order.objects.count() == 0
    assert Product.objects.get(pk=product.pk).stock == 10
    assert basket_of(session_basket_id=client.session["basket_id"]) == [(product.pk, 2)]


@pytest.mark.parametrize(
    ("field", "value"),
    [("email", "not-an-email"), ("shipping_method", "teleport"), ("payment_method", "bitcoin"), ("postcode", "x" * 21), ("name", "   ")],
)
def test_bad_checkout_values_are_form_errors(client, product, field, value):
    add(client, product)

    response = client.post(reverse("shop:checkout"), {**ADDRESS, field: value})

    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert Order.objects.count() == 0


def test_stock_sold_out_meanwhile_is_a_clear_error_and_the_basket_is_kept(client, product):
    add(client, product, 3)
    Product.objects.filter(pk=product.pk).update(stock=1)

    response = client.post(reverse("shop:checkout"), ADDRESS)

    assert response.status_code == 400
    assert response.context["form"].non_field_errors() == [
        f"Sorry, only 1 of “{product.title}” is in stock (you asked for 3)."
    ]
    assert f"only 1 of “{product.title}” is in stock" in response.content.decode()
    assert Order.objects.count() == 0
    assert Product.objects.get(pk=product.pk).stock == 1
    assert basket_of(session_basket_id=client.session["basket_id"]) == [(product.pk, 3)]


def test_product_withdrawn_meanwhile_is_a_clear_error(client, product):
    add(client, product, 1)
    Product.objects.filter(pk=product.pk).update(is_active=False)

    response = client.post(reverse("shop:checkout"), ADDRESS)

    assert response.status_code == 400
    assert response.context["form"].non_field_errors()
    assert Order.objects.count() == 0


def test_confirmation_of_someone_elses_order_is_404(client, product, user):
    order = make_order(user, [product], number="AIS-1")

    assert client.get(reverse("shop:order_confirmation", kwargs={"number": order.number})).status_code == 404
    assert client.get(reverse("shop:order_confirmation", kwargs={"number": "NOPE"})).status_code == 404


def test_declined_payment_is_a_clear_error_and_the_basket_is_kept(client, product, monkeypatch):
    from shop.payments import PROVIDERS, PaymentProvider, PaymentResult

    class Declining(PaymentProvider):
        code, name = "card", "Card"

        def authorise(self, order) -> PaymentResult:
            return PaymentResult(success=False, message="Your card was declined by the bank.")

    monkeypatch.setitem(PROVIDERS, "card", Declining())
    add(client, product, 3)

    response = client.post(reverse("shop:checkout"), {**ADDRESS, "payment_method": "card"})

    assert response.status_code == 400
    assert response.context["form"].non_field_errors() == ["Your card was declined by the bank."]
    assert response.context["form"].errors["payment_method"] == ["Your card was declined by the bank."]
    assert Order.objects.get().status == "cancelled"
    assert Product.objects.get(pk=product.pk).stock == 10
    assert basket_of(session_basket_id=client.session["basket_id"]) == [(product.pk, 3)]


@pytest.fixture
def checkout_rates(settings):
    def _set(visitor: str, ip: str) -> None:
        rates = {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "checkout_visitor": visitor, "checkout_ip": ip}
        settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}

    return _set


def test_checkout_is_throttled_per_visitor_with_a_clear_429(client, product, checkout_rates):
    checkout_rates(visitor="2/hour", ip="100/hour")
    for _ in range(2):
        add(client, product, 1)
        assert client.post(reverse("shop:checkout"), ADDRESS).status_code == 302
    add(client, product, 1)

    response = client.post(reverse("shop:checkout"), ADDRESS)

    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 3600
    assert response.context["form"].non_field_errors() == [
        "Too many orders from this browser or network: please try again in 60 minutes. Your basket is kept."
    ]
    assert Order.objects.count() == 2
    assert Product.objects.get(pk=product.pk).stock == 8
    assert basket_of(session_basket_id=client.session["basket_id"]) == [(product.pk, 1)]


def test_checkout_is_throttled_per_ip_when_the_visitor_drops_its_cookies(product, checkout_rates):
    from django.test import Client

    checkout_rates(visitor="100/hour", ip="2/hour")
    statuses = []
    for _ in range(3):
        stranger = Client(REMOTE_ADDR="203.0.113.9")  # a fresh browser each time: new visitor id and session
        add(stranger, product, 1)
        statuses.append(stranger.post(reverse("shop:checkout"), ADDRESS).status_code)
    other_network = Client(REMOTE_ADDR="198.51.100.1")
    add(other_network, product, 1)
    statuses.append(other_network.post(reverse("shop:checkout"), ADDRESS).status_code)

    assert statuses == [302, 302, 429, 302]
    assert Order.objects.count() == 3


def test_form_errors_do_not_use_up_the_allowance(client, product, checkout_rates):
    checkout_rates(visitor="1/hour", ip="100/hour")
    add(client, product, 1)
    assert client.post(reverse("shop:checkout"), {**ADDRESS, "postcode": ""}).status_code == 400
    assert client.post(reverse("shop:checkout"), ADDRESS).status_code == 302
