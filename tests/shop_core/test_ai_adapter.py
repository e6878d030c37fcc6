from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from ai.adapter import OrderLineInfo, ProductInfo
from ai.conf import ai_settings
from shop.ai_adapter import ShopAdapter
from shop.models import OrderStatus
from shop.placeholders import placeholder_url
from shop.services import basket as baskets
from shop.services.orders import transition
from tests.factories import CategoryFactory, ProductFactory

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


@pytest.fixture
def adapter() -> ShopAdapter:
    return ShopAdapter()


@pytest.fixture
def catalogue(db):
    candles = CategoryFactory(name="Candles")
    return {
        "candle": ProductFactory(title="Candle", category=candles, price=Decimal("2.50"), stock=4),
        "sold_out": ProductFactory(title="Sold out", category=candles, stock=0),
        "hidden": ProductFactory(title="Hidden", category=None, is_active=False),
    }


def test_settings_name_this_adapter():
    assert isinstance(ai_settings.adapter(), ShopAdapter)


def test_iter_products(adapter, catalogue, django_assert_max_num_queries):
    with django_assert_max_num_queries(2):
        products = list(adapter.iter_products())
    assert [p.title for p in products] == ["Candle", "Sold out", "Hidden"]
    candle = products[0]
    assert candle == ProductInfo(
        id=catalogue["candle"].pk, title="Candle", description=catalogue["candle"].description,
        category_id=catalogue["candle"].category_id, category_name="Candles", price=Decimal("2.50"),
        in_stock=True, active=True, url=catalogue["candle"].get_absolute_url(), image_url=placeholder_url(catalogue["candle"].pk, "Candle"),
    )
    assert (products[1].in_stock, products[2].active, products[2].category_name) == (False, False, "")
    assert [p.title for p in adapter.iter_products(active_only=True)] == ["Candle", "Sold out"]


def test_get_products_and_available_ids(adapter, catalogue, django_assert_num_queries):
    ids = [p.pk for p in catalogue.values()]
    with django_assert_num_queries(1):
        found = adapter.get_products([*ids, 999999])
    assert set(found) == set(ids)
    assert adapter.get_products([]) == {}
    with django_assert_num_queries(1):
        assert adapter.available_product_ids() == {catalogue["candle"].pk}


def test_get_products_reads_rows_that_match_the_models(adapter, catalogue):
    """get_products builds ProductInfo from plain rows: the same as from the model instances, photo and
    missing category included."""
    catalogue["sold_out"].image_url = "https://img.example/sold-out.jpg"
    catalogue["sold_out"].save(update_fields=["image_url"])
    from_models = {p.id: p for p in adapter.iter_products()}
    found = adapter.get_products([p.pk for p in catalogue.values()])
    assert found == from_models
    assert adapter.get_products([p.pk for p in reversed(catalogue.values())]) == from_models  # compiled SQL reused
    for info in found.values():  # converted as the ORM converts them (SQLite stores numbers and flags)
        assert (type(info.price), type(info.active), type(info.in_stock)) == (Decimal, bool, bool)
    assert found[catalogue["sold_out"].pk].image_url == "https://img.example/sold-out.jpg"
    assert (found[catalogue["hidden"].pk].category_id, found[catalogue["hidden"].pk].category_name) == (None, "")
    assert found[catalogue["candle"].pk].price == Decimal("2.50")
    for product in catalogue.values():  # the rows' links are the model's own
        assert (found[product.pk].url, found[product.pk].image_url) == (product.get_absolute_url(), product.display_image_url)


def test_order_lines_and_purchases(adapter, catalogue, signed_in, checkout, django_assert_num_queries):
    candle = catalogue["candle"]
    orders = []
    for day, quantity in enumerate([1, 2]):
        baskets.add_to_basket(signed_in.request(), candle.pk, quantity)
        orders.append(checkout(baskets.get_basket(signed_in.request()), signed_in.user, placed_at=T0 + timedelta(days=day)))
    transition(orders[0], OrderStatus.CANCELLED)

    with django_assert_num_queries(1):
        lines = list(adapter.iter_order_lines())
    assert lines == [
        OrderLineInfo(order_id=orders[0].pk, user_id=signed_in.user.pk, product_id=candle.pk, quantity=1,
                      unit_price=Decimal("2.50"), placed_at=T0, cancelled=True),
        OrderLineInfo(order_id=orders[1].pk, user_id=signed_in.user.pk, product_id=candle.pk, quantity=2,
                      unit_price=Decimal("2.50"), placed_at=T0 + timedelta(days=1), cancelled=False),
    ]
    assert [line.order_id for line in adapter.iter_order_lines(since=T0 + timedelta(hours=1))] == [orders[1].pk]
    assert [line.order_id for line in adapter.iter_order_lines(until=T0 + timedelta(hours=1))] == [orders[0].pk]
    with django_assert_num_queries(1):
        assert adapter.purchased_product_ids(signed_in.user.pk) == {candle.pk}
    transition(orders[1], OrderStatus.CANCELLED)
    assert adapter.purchased_product_ids(signed_in.user.pk) == set()


def test_a_merchant_cancelling_its_part_of_a_mixed_order_unsells_only_its_lines(adapter, catalogue, signed_in,
                                                                               checkout, django_assert_num_queries):
    candle, lamp = catalogue["candle"], ProductFactory(title="Lamp", stock=3)
    baskets.add_to_basket(signed_in.request(), candle.pk, 1)
    baskets.add_to_basket(signed_in.request(), lamp.pk, 1)
    order = checkout(baskets.get_basket(signed_in.request()), signed_in.user, placed_at=T0)
    transition(order, OrderStatus.CANCELLED, merchant_ids=[lamp.merchant_id])

    with django_assert_num_queries(1):
        assert {line.product_id: line.cancelled for line in adapter.iter_order_lines()} == {
            candle.pk: False, lamp.pk: True,
        }
    assert adapter.purchased_product_ids(signed_in.user.pk) == {candle.pk}
    assert [line.product_id for line in adapter.iter_demand_lines()] == [candle.pk]


def test_basket_product_ids(adapter, shopper, catalogue):
    assert adapter.basket_product_ids(shopper.request()) == set()
    baskets.add_to_basket(shopper.request(), catalogue["candle"].pk, 1)
    assert adapter.basket_product_ids(shopper.request()) == {catalogue["candle"].pk}
