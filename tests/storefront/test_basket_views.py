"""The basket page and its POST actions, including every kind of bad input."""
from __future__ import annotations

import pytest
from django.urls import reverse

from shop.models import BasketLine, Product
from tests.factories import ProductFactory

from .conftest import basket_of, messages_of


def add(client, product_id, quantity, **extra):
    data = {"product_id": product_id, "quantity": quantity, **extra}
    return client.post(reverse("shop:basket_add"), {k: v for k, v in data.items() if v is not None})


def session_basket(client) -> list[tuple[int, int]]:
    return basket_of(session_basket_id=client.session.get("basket_id"))


def test_add_update_remove_round_trip(client, product):
    response = add(client, product.pk, 2)
    assert response.status_code == 302 and response["Location"] == reverse("shop:basket")
    assert session_basket(client) == [(product.pk, 2)]

    page = client.get(reverse("shop:basket"))
    assert page.status_code == 200
    html = page.content.decode()
    assert product.title in html and "£8.50" in html
    assert page.context["basket_count"]() == 2
    assert 'data-basket-count>2<' in html

    client.post(reverse("shop:basket_update"), {"product_id": product.pk, "quantity": 5})
    assert session_basket(client) == [(product.pk, 5)]

    response = client.post(reverse("shop:basket_remove"), {"product_id": product.pk})
    assert "Removed the product from your basket." in messages_of(response)
    assert session_basket(client) == []


def test_update_to_zero_removes_the_line(client, product):
    add(client, product.pk, 2)

    response = client.post(reverse("shop:basket_update"), {"product_id": product.pk, "quantity": 0})

    assert response.status_code == 302
    assert session_basket(client) == []


def test_adding_twice_sums_quantities(client, product):
    add(client, product.pk, 2)
    add(client, product.pk, 3)

    assert session_basket(client) == [(product.pk, 5)]


@pytest.mark.parametrize(
    ("quantity", "message"),
    [
        ("0", "The quantity must be at least 1."),
        ("-1", "The quantity must be at least 1."),
        ("1e9", "Enter the quantity as a whole number."),
        ("1000000000", "You can order at most 999 of one product."),
        ("abc", "Enter the quantity as a whole number."),
        ("2.5", "Enter the quantity as a whole number."),
        ("", "Enter a quantity."),
        (None, "Enter a quantity."),
    ],
)
def test_add_with_bad_quantity_shows_message_and_stores_nothing(client, product, quantity, message):
    response = add(client, product.pk, quantity)

    assert response.status_code == 302
    assert messages_of(response) == [message]
    assert BasketLine.objects.count() == 0


def test_add_more_than_stock_is_refused_with_the_stock_level(client, product):
    response = add(client, product.pk, 11)

    assert messages_of(response) == [f"Sorry, only 10 of “{product.title}” are in stock (you asked for 11)."]
    assert BasketLine.objects.count() == 0


@pytest.mark.parametrize("product_id", ["999999", "abc", "", None, "-3"])
def test_add_unknown_product_is_refused(client, product, product_id):
    response = add(client, product_id, 1)

    assert response.status_code == 302
    assert len(messages_of(response)) == 1
    assert BasketLine.objects.count() == 0


def test_add_inactive_product_is_refused(client, product):
    Product.objects.filter(pk=product.pk).update(is_active=False)

    response = add(client, product.pk, 1)

    assert messages_of(response) == [f"Sorry, “{product.title}” is no longer available."]
    assert BasketLine.objects.count() == 0


def test_bad_add_goes_back_to_the_product_page_but_never_off_site(client, product):
    back = add(client, product.pk, "abc", next=product.get_absolute_url())
    off_site = add(client, product.pk, "abc", next="https://evil.example/")

    assert back["Location"] == product.get_absolute_url()
    assert off_site["Location"] == reverse("shop:basket")


@pytest.mark.parametrize("quantity", ["-1", "abc", "1e9", "1000", None])
def test_update_with_bad_quantity_keeps_the_line(client, product, quantity):
    add(client, product.pk, 2)
    client.get(reverse("shop:basket"))  # shows (and so consumes) the "added" message
    data = {"product_id": product.pk}
    if quantity is not None:
        data["quantity"] = quantity

    response = client.post(reverse("shop:basket_update"), data)

    assert response.status_code == 302
    assert len(messages_of(response)) == 1
    assert session_basket(client) == [(product.pk, 2)]


def test_update_above_stock_keeps_the_old_quantity(client, product):
    add(client, product.pk, 2)
    client.get(reverse("shop:basket"))

    response = client.post(reverse("shop:basket_update"), {"product_id": product.pk, "quantity": 50})

    assert "only 10" in messages_of(response)[0]
    assert session_basket(client) == [(product.pk, 2)]


def test_remove_with_junk_product_id_is_a_message(client, product):
    add(client, product.pk, 1)
    client.get(reverse("shop:basket"))

    response = client.post(reverse("shop:basket_remove"), {"product_id": "junk"})

    assert response.status_code == 302
    assert messages_of(response) == ["Unknown product."]
    assert session_basket(client) == [(product.pk, 1)]


@pytest.mark.parametrize("tampered", ["99999", "abc", "-1", ["list"], {"a": 1}])
def test_tampered_session_basket_id_gives_an_empty_basket(client, product, merchant, tree, tampered):
    other = ProductFactory(merchant=merchant, category=tree["kitchen"])
    add(client, other.pk, 1)  # someone's real basket, which a guessed id must not reach
    someone_else = client.session["basket_id"]
    client.cookies.clear()
    session = client.session
    session["basket_id"] = tampered if tampered != "99999" else someone_else + 1000
    session.save()

    page = client.get(reverse("shop:basket"))
    assert page.status_code == 200
    assert page.context["lines"] == []

    response = add(client, product.pk, 1)
    assert response.status_code == 302
    assert session_basket(client) == [(product.pk, 1)]
    assert basket_of(session_basket_id=someone_else) == [(other.pk, 1)]


def test_guessing_a_signed_in_users_basket_id_does_not_reach_it(client, product, user):
    client.force_login(user)
    add(client, product.pk, 3)
    user_basket_id = user.basket.pk
    client.post(reverse("shop:logout"))
    session = client.session
    session["basket_id"] = user_basket_id
    session.save()

    page = client.get(reverse("shop:basket"))

    assert page.context["lines"] == []
    assert basket_of(user=user) == [(product.pk, 3)]


@pytest.mark.parametrize("name", ["shop:basket_add", "shop:basket_update", "shop:basket_remove"])
def test_basket_actions_refuse_get(client, db, name):
    assert client.get(reverse(name)).status_code == 405


def test_empty_basket_page(client, db):
    response = client.get(reverse("shop:basket"))

    assert response.status_code == 200
    assert "Your basket is empty." in response.content.decode()
