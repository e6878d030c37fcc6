from __future__ import annotations

import pytest

from ai.models import Event
from shop.exceptions import InsufficientStock, InvalidQuantity, ProductUnavailable, ShopError
from shop.models import Basket, BasketLine
from shop.services import basket as baskets
from shop.services.accounts import sign_in
from tests.factories import ProductFactory, UserFactory

from .conftest import Shopper


@pytest.mark.parametrize(
    "quantity, error",
    [
        (0, InvalidQuantity),
        (-1, InvalidQuantity),
        (1000, InvalidQuantity),
        (10**30, InvalidQuantity),
        ("abc", InvalidQuantity),
        ("", InvalidQuantity),
        ("2.5", InvalidQuantity),
        (2.5, InvalidQuantity),
        (True, InvalidQuantity),
        (None, InvalidQuantity),
        (11, InsufficientStock),
    ],
)
def test_add_rejects_bad_quantities_and_stores_nothing(shopper, product, quantity, error):
    with pytest.raises(error) as raised:
        baskets.add_to_basket(shopper.request(), product.pk, quantity)
    assert isinstance(raised.value, ShopError)
    assert raised.value.message
    assert Basket.objects.count() == 0
    assert BasketLine.objects.count() == 0
    assert baskets.SESSION_KEY not in shopper.session


@pytest.mark.parametrize("product_id", [987654, "abc", None, -3, 0])
def test_add_rejects_unknown_products(shopper, product_id):
    with pytest.raises(ProductUnavailable, match="does not exist"):
        baskets.add_to_basket(shopper.request(), product_id, 1)
    assert Basket.objects.count() == 0


def test_add_rejects_inactive_product(shopper):
    product = ProductFactory(is_active=False, title="Old teapot")
    with pytest.raises(ProductUnavailable, match="Old teapot"):
        baskets.add_to_basket(shopper.request(), product.pk, 1)
    assert BasketLine.objects.count() == 0


def test_add_accepts_digit_strings_and_sums_lines(shopper, product):
    baskets.add_to_basket(shopper.request(), str(product.pk), " 2 ")
    line = baskets.add_to_basket(shopper.request(), product.pk, 3)
    assert line.quantity == 5
    assert BasketLine.objects.get().quantity == 5
    assert baskets.get_basket_count(shopper.request()) == 5


def test_add_on_top_of_basket_is_checked_against_stock_and_keeps_the_line(shopper, product):
    baskets.add_to_basket(shopper.request(), product.pk, 8)
    with pytest.raises(InsufficientStock) as raised:
        baskets.add_to_basket(shopper.request(), product.pk, 3)
    assert (raised.value.requested, raised.value.available) == (11, 10)
    assert "only 10" in raised.value.message
    assert BasketLine.objects.get().quantity == 8


def test_add_on_top_of_basket_is_capped_at_max_quantity(shopper):
    product = ProductFactory(stock=5000)
    baskets.add_to_basket(shopper.request(), product.pk, 999)
    with pytest.raises(InvalidQuantity, match="at most 999"):
        baskets.add_to_basket(shopper.request(), product.pk, 1)
    assert BasketLine.objects.get().quantity == 999


def test_set_quantity_replaces_and_zero_removes(shopper, product):
    baskets.add_to_basket(shopper.request(), product.pk, 2)
    assert baskets.set_quantity(shopper.request(), product.pk, "7").quantity == 7
    with pytest.raises(InsufficientStock):
        baskets.set_quantity(shopper.request(), product.pk, 11)
    with pytest.raises(InvalidQuantity):
        baskets.set_quantity(shopper.request(), product.pk, -1)
    assert BasketLine.objects.get().quantity == 7
    assert baskets.set_quantity(shopper.request(), product.pk, 0) is None
    assert BasketLine.objects.count() == 0


def test_remove_from_basket(shopper, product):
    other = ProductFactory()
    baskets.add_to_basket(shopper.request(), product.pk, 2)
    baskets.add_to_basket(shopper.request(), other.pk, 1)
    assert baskets.remove_from_basket(shopper.request(), product.pk) is True
    assert baskets.remove_from_basket(shopper.request(), product.pk) is False
    assert baskets.basket_product_ids(shopper.request()) == {other.pk}


def test_basket_changes_record_ai_events(shopper, product):
    baskets.add_to_basket(shopper.request(), product.pk, 2)
    baskets.set_quantity(shopper.request(), product.pk, 1)
    baskets.remove_from_basket(shopper.request(), product.pk)
    events = list(Event.objects.values_list("event_type", "product_id", "visitor_id"))
    assert events == [
        ("add_to_cart", product.pk, shopper.visitor_id),
        ("remove_from_cart", product.pk, shopper.visitor_id),
        ("remove_from_cart", product.pk, shopper.visitor_id),
    ]


@pytest.mark.parametrize("tampered", ["abc", "-1", "999999", {"x": 1}])
def test_tampered_session_basket_id_yields_an_empty_basket(shopper, product, tampered):
    shopper.session[baskets.SESSION_KEY] = tampered
    assert baskets.get_basket(shopper.request()) is None
    assert baskets.get_basket_count(shopper.request()) == 0
    baskets.add_to_basket(shopper.request(), product.pk, 1)
    assert baskets.get_basket_count(shopper.request()) == 1


def test_session_cannot_point_at_a_customers_basket(shopper, signed_in, product):
    baskets.add_to_basket(signed_in.request(), product.pk, 3)
    shopper.session[baskets.SESSION_KEY] = Basket.objects.get().pk
    assert baskets.get_basket(shopper.request()) is None
    assert baskets.get_basket_count(shopper.request()) == 0
    assert baskets.basket_product_ids(shopper.request()) == set()


def test_basket_count_queries(shopper, signed_in, product, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert baskets.get_basket_count(shopper.request()) == 0
    baskets.add_to_basket(shopper.request(), product.pk, 2)
    baskets.add_to_basket(signed_in.request(), product.pk, 4)
    with django_assert_num_queries(1):
        assert baskets.get_basket_count(shopper.request()) == 2
    with django_assert_num_queries(1):
        assert baskets.get_basket_count(signed_in.request()) == 4
    with django_assert_num_queries(1):
        assert baskets.basket_product_ids(signed_in.request()) == {product.pk}


def test_merge_at_sign_in_sums_quantities_capped_at_stock(shopper, customer):
    shared = ProductFactory(stock=6)
    only_anonymous = ProductFactory(stock=10)
    only_customer = ProductFactory(stock=10)
    withdrawn = ProductFactory(stock=10)
    for pid, quantity in [(shared.pk, 4), (only_anonymous.pk, 2), (withdrawn.pk, 1)]:
        baskets.add_to_basket(shopper.request(), pid, quantity)
    returning = Shopper(customer)
    baskets.add_to_basket(returning.request(), shared.pk, 5)
    baskets.add_to_basket(returning.request(), only_customer.pk, 1)
    withdrawn.is_active = False
    withdrawn.save()
    anonymous_basket_id = shopper.session[baskets.SESSION_KEY]

    request = shopper.request()
    sign_in(request, customer, backend="django.contrib.auth.backends.ModelBackend")

    assert request.user == customer
    assert baskets.SESSION_KEY not in request.session
    assert not Basket.objects.filter(pk=anonymous_basket_id).exists()
    basket = Basket.objects.get(user=customer)
    quantities = dict(basket.lines.values_list("product_id", "quantity"))
    assert quantities == {shared.pk: 6, only_anonymous.pk: 2, only_customer.pk: 1}
    shopper.user = customer
    assert baskets.get_basket_count(shopper.request()) == 9


def test_merge_at_sign_in_without_a_customer_basket_moves_it(shopper, customer, product):
    baskets.add_to_basket(shopper.request(), product.pk, 3)
    earlier = Event.objects.get()
    assert earlier.user_id is None
    sign_in(shopper.request(), customer, backend="django.contrib.auth.backends.ModelBackend")
    assert dict(Basket.objects.get(user=customer).lines.values_list("product_id", "quantity")) == {product.pk: 3}
    assert Basket.objects.count() == 1
    earlier.refresh_from_db()
    assert earlier.user_id == customer.pk  # ai.tracking.identify joined the visitor's events


def test_sign_in_without_anonymous_basket_keeps_customer_basket(customer, product):
    returning = Shopper(customer)
    baskets.add_to_basket(returning.request(), product.pk, 2)
    fresh = Shopper()
    sign_in(fresh.request(), UserFactory(username=customer.username), backend="django.contrib.auth.backends.ModelBackend")
    assert Basket.objects.get(user=customer).lines.get().quantity == 2
