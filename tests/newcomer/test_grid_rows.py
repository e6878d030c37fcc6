"""Lists sized to their grid: one row, or whole rows, at every breakpoint (4 columns, 2 below 860 px)."""
from __future__ import annotations

import re

import pytest

from ai.recs.page import parse_columns, whole_rows
from tests.factories import CategoryFactory, ProductFactory
from tests.recs_serving.conftest import fresh_serving, make_popular  # noqa: F401
from tests.recs_serving.test_template_tag import make_request, render


@pytest.mark.parametrize(
    "count, columns, shown",
    [
        (8, (4, 2), 8), (7, (4, 2), 4), (6, (4, 2), 4), (5, (4, 2), 4), (4, (4, 2), 4), (3, (4, 2), 2),
        (2, (4, 2), 2), (1, (4, 2), 1), (0, (4, 2), 0), (12, (4, 2), 12), (9, (4,), 8), (3, (4,), 3),
        (5, (5, 3), 3), (6, (6, 3), 6), (7, (3,), 6),
    ],
)
def test_whole_rows(count, columns, shown):
    assert whole_rows(count, columns) == shown


@pytest.mark.parametrize("value, columns", [(4, [4]), ("4", [4]), ("4,2", [4, 2]), (" 4, 2 ", [4, 2])])
def test_parse_columns(value, columns):
    assert parse_columns(value) == columns


@pytest.mark.parametrize("value", ["", "0", "4,-2", "wide"])
def test_bad_columns_are_refused(value):
    with pytest.raises(ValueError):
        parse_columns(value)


def rendered_ids(html: str) -> list[int]:
    return [int(pid) for pid in re.findall(r'data-rec-item data-product-id="(\d+)"', html)]


@pytest.mark.django_db
def test_the_tag_cuts_a_list_to_whole_rows_and_leaves_the_rest_to_later_blocks(settings):
    settings.AI_MAX_PER_CATEGORY = 0
    products = [ProductFactory(category=CategoryFactory(), stock=5) for _ in range(7)]
    make_popular(products)
    html = render('{% recommendations "home" rows_of="4,2" %}|{% recommendations "basket" %}', make_request())
    home, basket = html.split("|")
    assert rendered_ids(home) == [p.pk for p in products[:4]]  # 7 would leave rows of 4 + 3
    assert rendered_ids(basket) == [p.pk for p in products[4:7]]  # what the first block left out comes next
    assert len(rendered_ids(render('{% recommendations "home" %}', make_request()))) == 7  # without rows_of: all


@pytest.mark.django_db
def test_a_young_shops_bestsellers_fill_whole_rows(client):
    products = [ProductFactory(stock=5, units_sold=10 - i) for i in range(3)]
    html = client.get("/").content.decode()
    bestsellers = html.split('id="bestsellers"', 1)[1].split("</section>", 1)[0]
    assert [int(pid) for pid in re.findall(r'data-product-picture="(\d+)"', bestsellers)] == [p.pk for p in products[:2]]
