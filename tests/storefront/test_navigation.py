"""The category bar is read from the database once, then from the cache until a category changes."""
from __future__ import annotations

import pytest
from django.urls import reverse

from shop.services.navigation import top_categories
from tests.factories import CategoryFactory

pytestmark = pytest.mark.django_db


def test_the_top_categories_are_read_once_and_follow_every_change(django_assert_num_queries):
    lamps = CategoryFactory(name="Lamps")
    CategoryFactory(name="Desk lamps", parent=lamps)
    with django_assert_num_queries(1):
        assert [c.name for c in top_categories()] == ["Lamps"]
    with django_assert_num_queries(0):
        assert [c.name for c in top_categories()] == ["Lamps"]

    bags = CategoryFactory(name="Bags")
    assert [c.name for c in top_categories()] == ["Bags", "Lamps"]
    lamps.name = "Lighting"
    lamps.save()
    assert [c.name for c in top_categories()] == ["Bags", "Lighting"]
    bags.delete()
    assert [c.name for c in top_categories()] == ["Lighting"]


def test_a_new_top_level_category_shows_in_the_bar_of_the_next_page(client):
    CategoryFactory(name="Lamps")
    assert "Lamps" in client.get(reverse("shop:search")).content.decode()
    CategoryFactory(name="Teapots")
    page = client.get(reverse("shop:search")).content.decode()
    assert 'class="category-nav"' in page and "Teapots" in page


def test_cached_links_are_those_reverse_builds_and_follow_the_script_prefix():
    from django.urls import reverse, set_script_prefix

    from ai.conf import ai_settings
    from shop.placeholders import placeholder_url
    from shop.url_cache import bound_reverse
    from tests.factories import ProductFactory

    product = ProductFactory(title="Jumbo Bag Red", slug="jumbo-bag-red")
    expected = reverse("shop:product", kwargs={"pk": product.pk, "slug": "jumbo-bag-red"})
    assert product.get_absolute_url() == product.get_absolute_url() == expected
    assert placeholder_url(product.pk, product.title) == reverse(
        "shop:placeholder", kwargs={"hue": product.pk * 137 % 360, "letters": "JB"}
    )
    set_script_prefix("/shop/")  # a shop served under a sub-path
    try:
        assert product.get_absolute_url() == "/shop" + expected
        # What the AI adapter builds its product cards' links with: bound to the prefix of the moment.
        assert ai_settings.adapter().get_products([product.pk])[product.pk].url == "/shop" + expected
        assert bound_reverse()("shop:product", pk=product.pk, slug="jumbo-bag-red") == "/shop" + expected
    finally:
        set_script_prefix("/")
    assert product.get_absolute_url() == expected
    assert ai_settings.adapter().get_products([product.pk])[product.pk].url == expected
