"""Home, category, product and search pages."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from ai.models import Event
from shop.models import Product
from tests.factories import ProductFactory


def titles(response) -> list[str]:
    return [p.title for p in response.context["products"]]


def test_home_shows_root_categories_and_bestsellers_by_units_sold(client, merchant, tree):
    ProductFactory(merchant=merchant, category=tree["kitchen"], title="Cake Stand", stock=5)
    Product.objects.filter(title="Cake Stand").update(units_sold=3)
    best = ProductFactory(merchant=merchant, category=tree["tealights"], title="Tealight Tin", stock=5)
    Product.objects.filter(pk=best.pk).update(units_sold=40)
    ProductFactory(merchant=merchant, category=tree["kitchen"], title="Hidden Mug", is_active=False)

    response = client.get(reverse("shop:home"))

    assert response.status_code == 200
    assert [c.name for c in response.context["categories"]] == ["Home", "Kitchen"]
    assert [p.title for p in response.context["bestsellers"]] == ["Tealight Tin", "Cake Stand"]
    html = response.content.decode()
    assert 'class="skip-link" href="#main"' in html
    assert 'id="main"' in html and 'role="search"' in html


def test_category_lists_products_of_descendants_with_breadcrumbs(client, merchant, tree):
    ProductFactory(merchant=merchant, category=tree["candles"], title="Pillar Candle")
    ProductFactory(merchant=merchant, category=tree["tealights"], title="Tealight Pack")
    ProductFactory(merchant=merchant, category=tree["kitchen"], title="Tea Towel")
    ProductFactory(merchant=merchant, category=tree["tealights"], title="Gone", is_active=False)

    response = client.get(reverse("shop:category", kwargs={"path": "home/candles"}))

    assert response.status_code == 200
    assert sorted(titles(response)) == ["Pillar Candle", "Tealight Pack"]
    assert [c.name for c in response.context["breadcrumbs"]] == ["Home"]
    assert [c.name for c in response.context["subcategories"]] == ["Tealights"]
    assert 'aria-current="page">Candles' in response.content.decode()


def test_unknown_category_is_404(client, tree):
    assert client.get("/c/home/nothing-here/").status_code == 404


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("price", ["Cheap", "Middle", "Dear"]),
        ("-price", ["Dear", "Middle", "Cheap"]),
        ("newest", ["Middle", "Cheap", "Dear"]),
        ("popular", ["Dear", "Cheap", "Middle"]),
    ],
)
def test_category_sorts(client, merchant, tree, sort, expected):
    now = timezone.now()
    specs = [("Cheap", "1.00", 5, 2), ("Middle", "5.00", 1, 1), ("Dear", "20.00", 9, 3)]
    for title, price, sold, age_days in specs:
        p = ProductFactory(merchant=merchant, category=tree["kitchen"], title=title, price=Decimal(price))
        Product.objects.filter(pk=p.pk).update(units_sold=sold, created_at=now - timedelta(days=age_days))

    response = client.get(reverse("shop:category", kwargs={"path": "kitchen"}), {"sort": sort})

    assert titles(response) == expected
    assert response.context["sort"] == sort


def test_in_stock_filter(client, merchant, tree):
    ProductFactory(merchant=merchant, category=tree["kitchen"], title="Plenty", stock=3)
    ProductFactory(merchant=merchant, category=tree["kitchen"], title="None left", stock=0)
    url = reverse("shop:category", kwargs={"path": "kitchen"})

    assert sorted(titles(client.get(url))) == ["None left", "Plenty"]
    assert titles(client.get(url, {"in_stock": "1"})) == ["Plenty"]


@pytest.mark.parametrize(
    ("params", "notice"),
    [
        ({"sort": "drop table"}, "sort order is not available"),
        ({"sort": "price", "page": "abc"}, "There is no page “abc”"),
        ({"page": "999"}, "so this is page 2 of 2"),
        ({"page": "-1"}, "There is no page “-1”"),
        ({"in_stock": "maybe", "page": "0"}, "There is no page “0”"),
    ],
)
def test_bad_listing_params_fall_back_with_a_notice(client, merchant, tree, params, notice):
    ProductFactory.create_batch(30, merchant=merchant, category=tree["kitchen"])

    response = client.get(reverse("shop:category", kwargs={"path": "kitchen"}), params)

    assert response.status_code == 200
    assert any(notice in n for n in response.context["notices"])
    assert len(response.context["products"]) > 0


def test_pagination_pages_through_every_product_once(client, merchant, tree):
    ProductFactory.create_batch(30, merchant=merchant, category=tree["kitchen"])
    url = reverse("shop:category", kwargs={"path": "kitchen"})

    first = client.get(url, {"sort": "price"})
    second = client.get(url, {"sort": "price", "page": "2"})

    assert len(first.context["products"]) == 24 and len(second.context["products"]) == 6
    assert not set(titles(first)) & set(titles(second))
    assert "page=2" in first.content.decode() and "sort=price" in first.content.decode()


def test_product_page_renders_and_records_a_view(client, product):
    response = client.get(product.get_absolute_url())

    assert response.status_code == 200
    html = response.content.decode()
    assert product.title in html and "£4.25" in html
    assert f'action="{reverse("shop:basket_add")}"' in html
    assert [c.name for c in response.context["breadcrumbs"]] == ["Home", "Candles"]
    assert Event.objects.filter(event_type="view", product_id=product.pk).count() == 1


def test_product_page_with_wrong_slug_redirects_to_canonical(client, product):
    response = client.get(reverse("shop:product", kwargs={"pk": product.pk, "slug": "old-name"}))

    assert response.status_code == 301
    assert response["Location"] == product.get_absolute_url()


@pytest.mark.parametrize("url", ["/p/999999-nothing/", "/p/abc-nothing/"])
def test_unknown_product_is_404(client, db, url):
    assert client.get(url).status_code == 404


def test_inactive_product_is_404(client, product):
    Product.objects.filter(pk=product.pk).update(is_active=False)

    assert client.get(product.get_absolute_url()).status_code == 404


def test_out_of_stock_product_has_no_add_form(client, product):
    Product.objects.filter(pk=product.pk).update(stock=0)

    response = client.get(product.get_absolute_url())

    assert response.status_code == 200
    assert "Out of stock" in response.content.decode()
    assert reverse("shop:basket_add") not in response.content.decode()


def test_search_finds_products_and_records_the_query(client, merchant, tree):
    ProductFactory(merchant=merchant, category=tree["kitchen"], title="Red Retrospot Cake Stand", description="Three tiers.")
    ProductFactory(merchant=merchant, category=tree["kitchen"], title="Blue Mug", description="Goes with the cake stand.")
    ProductFactory(merchant=merchant, category=tree["kitchen"], title="Tea Towel", description="Cotton.")
    ProductFactory(merchant=merchant, category=tree["kitchen"], title="Hidden Cake Stand", is_active=False)

    response = client.get(reverse("shop:search"), {"q": "  cake   stand "})

    assert response.status_code == 200
    # The title match ranks above the description match on either database.
    assert titles(response) == ["Red Retrospot Cake Stand", "Blue Mug"]
    assert Event.objects.filter(event_type="search", query="cake stand").count() == 1


@pytest.mark.parametrize(
    "params",
    [{}, {"q": ""}, {"q": "   "}, {"q": "x" * 5000}, {"q": "zzzz", "sort": "nope", "page": "x"}, {"q": "&|!(':*"}, {"q": "a\x00b"}],
)
def test_search_bad_or_empty_queries_are_handled(client, product, params):
    response = client.get(reverse("shop:search"), params)

    assert response.status_code == 200
    assert list(response.context["products"]) == []
    assert len(response.context["query"]) <= 200


def test_search_sort_by_price_overrides_relevance(client, merchant, tree):
    ProductFactory(merchant=merchant, category=tree["kitchen"], title="Lantern Large", price=Decimal("30"))
    ProductFactory(merchant=merchant, category=tree["kitchen"], title="Lantern Small", price=Decimal("3"))

    response = client.get(reverse("shop:search"), {"q": "lantern", "sort": "price"})

    assert titles(response) == ["Lantern Small", "Lantern Large"]


def test_postgres_full_text_search_ranks_title_over_description_and_stems(client, require_postgres, merchant, tree):
    from django.db import connection

    assert connection.vendor == "postgresql"
    ProductFactory(merchant=merchant, category=tree["kitchen"], title="Tea Towel", description="Dries candles? no: dishes.")
    ProductFactory(merchant=merchant, category=tree["kitchen"], title="Scented Candles Set", description="Three jars.")
    ProductFactory(merchant=merchant, category=tree["kitchen"], title="Doormat", description="Coir.")

    # "candle" matches "candles" through English stemming, which icontains would also do; "-towel" excludes.
    response = client.get(reverse("shop:search"), {"q": "candle"})
    assert titles(response) == ["Scented Candles Set", "Tea Towel"]
    assert response.context["products"][0].rank > response.context["products"][1].rank

    response = client.get(reverse("shop:search"), {"q": "candle -towel"})
    assert titles(response) == ["Scented Candles Set"]


@pytest.mark.parametrize("url", ["/c/home%00/", "/orders/A%00B/confirmation/", "/account/orders/A%00B/"])
def test_nul_characters_in_urls_are_404_on_every_database(client, user, tree, url):
    client.force_login(user)

    assert client.get(url).status_code == 404


def test_postgres_search_uses_the_gin_index(require_postgres, merchant, tree):
    from django.db import connection

    from shop.search import search_products

    ProductFactory.create_batch(20, merchant=merchant, category=tree["kitchen"])
    # Over all products, so that the only index that can answer is the full-text one.
    sql, params = search_products("candle holder", Product.objects.all()).query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # tiny tables: make the planner show what it can use
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())

    assert "product_search_vector_idx" in plan
