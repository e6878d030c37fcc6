from __future__ import annotations

import re

import pytest

from shop.placeholders import hue, initials, placeholder_url
from tests.factories import ProductFactory


@pytest.mark.parametrize(
    "title, expected",
    [("Jumbo Bag Red Retrospot", "JB"), ("jumbo storage bag", "JS"), ("  ", "A"), ("3 Stripey Mice", "3S"),
     ("'Set of 6' spice tins", "SO"), ("Ça va mug", "CV"), ("!!!", "A")],
)
def test_initials_are_the_first_letters_of_the_first_two_words(title, expected):
    assert initials(title) == expected


def test_hue_follows_the_product_not_its_position():
    assert hue(1) == 137 and hue(2) == 274 and hue(3) == 51 and hue(1) == hue(361)


@pytest.mark.django_db
def test_the_placeholder_is_an_svg_of_the_products_initials(client):
    response = client.get("/placeholder/137/JB.svg")
    assert response.status_code == 200 and response["Content-Type"] == "image/svg+xml"
    assert ">JB</text>" in response.content.decode() and "hsl(137 55% 93%)" in response.content.decode()
    assert "immutable" in response["Cache-Control"]


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/placeholder/360/JB.svg", "/placeholder/10/<s>.svg", "/placeholder/10/ABC.svg", "/placeholder/10/jb.svg"])
def test_bad_placeholder_urls_are_404(client, path):
    assert client.get(path).status_code == 404


@pytest.mark.django_db
def test_a_product_has_one_picture_on_every_page_and_in_every_recommendation(client):
    from ai.conf import ai_settings

    product = ProductFactory(title="Jumbo Bag Red Retrospot", stock=3)
    expected = placeholder_url(product.pk, product.title)
    assert product.display_image_url == expected
    assert ai_settings.adapter().get_products([product.pk])[product.pk].image_url == expected
    for url in ["/", product.get_absolute_url()]:
        pictures = re.findall(rf'<img src="([^"]+)"[^>]*data-product-picture="{product.pk}"', client.get(url).content.decode())
        assert pictures and set(pictures) == {expected}, url


@pytest.mark.django_db
def test_a_photo_wins_over_the_placeholder():
    product = ProductFactory(image_url="https://img.example/p.jpg")
    assert product.display_image_url == "https://img.example/p.jpg"
