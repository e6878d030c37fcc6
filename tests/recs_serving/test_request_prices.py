"""The adapter prices per request (`get_products(ids, request=...)`): the template tag and the API pass the
shopper's request through, so a shop with member prices shows each shopper their own price, and no list
is cached across shoppers with someone else's prices. Aisle's own shop has one price per product."""
from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest

from shop.ai_adapter import ShopAdapter
from tests.factories import UserFactory

from .conftest import make_popular
from .test_template_tag import make_request, render

SEEN: list[object] = []


class MemberPricesAdapter(ShopAdapter):
    """Signed-in shoppers pay 10% less (a host shop's customer-group price)."""

    def get_products(self, product_ids, request=None):
        SEEN.append(request)
        found = super().get_products(product_ids, request=request)
        if request is None or not request.user.is_authenticated:
            return found
        return {pid: dataclasses.replace(info, price=(info.price * Decimal("0.9")).quantize(Decimal("0.01")))
                for pid, info in found.items()}


@pytest.fixture
def member_prices(settings):
    settings.AI_SHOP_ADAPTER = "tests.recs_serving.test_request_prices.MemberPricesAdapter"
    SEEN.clear()
    yield
    SEEN.clear()


def test_aisles_adapter_gives_one_price_whoever_asks(products):
    adapter = ShopAdapter()
    anonymous, member = make_request(), make_request(UserFactory())
    prices = [adapter.get_products([products[0].pk], request=r)[products[0].pk].price for r in (None, anonymous, member)]
    assert prices == [Decimal("9.99")] * 3


def test_the_tag_shows_each_shopper_the_price_the_adapter_gives_for_their_request(products, member_prices):
    make_popular(products)
    anonymous = make_request()
    member = make_request(UserFactory(), visitor_id="fedcba9876543210fedcba9876543210")
    html_anonymous = render('{% recommendations "home" limit=2 %}', anonymous)
    html_member = render('{% recommendations "home" limit=2 %}', member)
    assert html_anonymous.count("£9.99") == 2 and "£8.99" not in html_anonymous
    assert html_member.count("£8.99") == 2 and "£9.99" not in html_member
    assert anonymous in SEEN and member in SEEN


def test_the_api_prices_the_list_for_the_signed_in_shopper(client, products, member_prices):
    make_popular(products)
    user = UserFactory()
    client.force_login(user)
    response = client.get("/api/v1/recommendations/", {"placement": "home", "limit": 3})
    assert response.status_code == 200, response.content
    assert [item["price"] for item in response.json()["items"]] == ["8.99"] * 3
    assert [r.user for r in SEEN if r is not None] == [user]
