"""One recommendation context per page (no product twice, in templates, the shop's home page and the
API), and explanations that name real products of the shopper's history or basket."""
from __future__ import annotations

import re

import pytest

from ai.recs.algorithms.cooccurrence import CoOccurrence
from ai.recs.data import build_interactions
from ai.recs.service import recommend
from shop.models import ApiKey
from shop.services.api_keys import create_api_key
from tests.factories import MerchantFactory, ProductFactory

from .conftest import add_events, make_popular, register_live
from .test_template_tag import make_request, render

URL = "/api/v1/recommendations/"


def rendered_ids(html: str) -> list[int]:
    return [int(pid) for pid in re.findall(r'data-rec-item data-product-id="(\d+)"', html)]


@pytest.fixture
def read_key(db):
    """A key staff trusted as a storefront backend: these tests ask for visitors' personal lists."""
    api_key, raw = create_api_key(MerchantFactory(), scope=ApiKey.Scope.READ, name="headless")
    ApiKey.objects.filter(pk=api_key.pk).update(trusted_storefront=True)
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


@pytest.fixture
def pairs_live(products):
    """Co-occurrence from 30 shoppers who buy products 2k and 2k+1 together."""
    for shopper in range(30):
        pair = shopper % 6
        add_events(f"s{shopper}", [products[2 * pair].pk, products[2 * pair + 1].pk], event_type="purchase")
    data = build_interactions()
    return register_live("cooccurrence", CoOccurrence().fit(data), data.item_keys)


def test_blocks_of_one_page_never_repeat_a_product(settings, products):
    settings.AI_MAX_PER_CATEGORY = 0
    make_popular(products)
    html = render('{% recommendations "home" limit=4 %}{% recommendations "basket" limit=4 %}', make_request())
    shown = rendered_ids(html)
    assert shown == [p.pk for p in products[:8]]  # both from popularity: the second block goes on where the first ended
    assert len(set(shown)) == len(shown)


def test_two_pages_are_two_contexts(settings, products):
    settings.AI_MAX_PER_CATEGORY = 0
    make_popular(products)
    first = rendered_ids(render('{% recommendations "home" limit=4 %}', make_request()))
    second = rendered_ids(render('{% recommendations "home" limit=4 %}', make_request()))
    assert first == second == [p.pk for p in products[:4]]


def test_home_page_recommendations_leave_out_the_bestsellers_it_shows(client, settings, products):
    settings.AI_MAX_PER_CATEGORY = 0
    catalogue = products + [ProductFactory(category=products[i].category) for i in range(12)]
    make_popular(catalogue)
    for rank, product in enumerate(catalogue):  # the shop's bestsellers are the most popular products too
        product.units_sold = 100 - rank
        product.save(update_fields=["units_sold"])
    html = client.get("/").content.decode()
    bestsellers = html.split('id="bestsellers"', 1)[1].split("data-rec-list", 1)[0]
    grid = [int(pid) for pid in re.findall(r'data-product-picture="(\d+)"', bestsellers)]
    assert grid == [p.pk for p in catalogue[:8]]  # BESTSELLER_COUNT
    assert rendered_ids(html) == [p.pk for p in catalogue[8:16]]  # "Popular right now" goes on from there


def test_api_lists_under_one_page_id_never_repeat_a_product(client, settings, read_key, products):
    settings.AI_MAX_PER_CATEGORY = 0
    make_popular(products)
    ask = {"placement": "home", "visitor": "v-1", "limit": 3, "page": "checkout-42"}
    first = [i["id"] for i in client.get(URL, ask, **read_key).json()["items"]]
    second = [i["id"] for i in client.get(URL, {**ask, "placement": "basket"}, **read_key).json()["items"]]
    other_page = [i["id"] for i in client.get(URL, {**ask, "page": "other"}, **read_key).json()["items"]]
    assert first == [p.pk for p in products[:3]]
    assert second == [p.pk for p in products[3:6]]
    assert other_page == first
    excluded = client.get(URL, {"placement": "home", "exclude": f"{products[0].pk},{products[2].pk}", "limit": 2},
                          **read_key).json()["items"]
    assert [i["id"] for i in excluded] == [products[1].pk, products[3].pk]


@pytest.mark.parametrize("bad", ["a b", "x" * 65, "../etc"])
def test_api_refuses_a_bad_page_id(client, read_key, products, bad):
    response = client.get(URL, {"placement": "home", "page": bad}, **read_key)
    assert response.status_code == 400
    assert "page" in response.json()["error"]["fields"]


def test_explanations_name_the_bought_product_that_led_to_each_recommendation(settings, products, pairs_live):
    settings.AI_MAX_PER_CATEGORY = 0
    add_events("me", [products[0].pk, products[4].pk], event_type="purchase")
    recs = recommend(placement="home", visitor_id="me", limit=4)
    by_id = {item.id: item for item in recs.items}
    assert products[1].pk in by_id and products[5].pk in by_id  # each bought product's partner
    assert recs.reason(products[1].pk).code == "bought"
    assert recs.reason(products[1].pk).product_id == products[0].pk
    assert recs.reason(products[1].pk).text == f"Because you bought {products[0].title}"
    assert recs.reason(products[5].pk).product_id == products[4].pk
    for item in recs.items:  # the rest came from popularity: said so, with their category
        if item.id not in (products[1].pk, products[5].pk):
            assert recs.reason(item.id).text == f"Popular in {item.category_name}"


def test_basket_explanations_name_the_basket_product(settings, products, pairs_live):
    settings.AI_MAX_PER_CATEGORY = 0
    recs = recommend(placement="basket", visitor_id="new", basket_product_ids=[products[2].pk], limit=3)
    assert recs.items[0].id == products[3].pk
    reason = recs.reason(products[3].pk)
    assert (reason.code, reason.product_id) == ("in_basket", products[2].pk)
    assert reason.text == f"Often bought with {products[2].title}, in your basket"


def test_explanations_on_the_card_and_in_the_api(client, settings, read_key, products, pairs_live):
    settings.AI_MAX_PER_CATEGORY = 0
    add_events("me", [products[6].pk], event_type="purchase")
    html = render('{% recommendations "home" limit=2 %}', make_request(visitor_id="me"))
    assert f"Because you bought {products[6].title}" in html
    body = client.get(URL, {"placement": "home", "visitor": "me", "limit": 2}, **read_key).json()
    assert body["items"][0]["id"] == products[7].pk
    assert body["items"][0]["reason"] == {
        "code": "bought", "text": f"Because you bought {products[6].title}", "product_id": products[6].pk,
    }
    similar = client.get(URL, {"placement": "product_similar", "product": products[0].pk}, **read_key).json()
    assert all(item["reason"] is None for item in similar["items"])
