from __future__ import annotations

import pytest


@pytest.mark.django_db
def test_favicon_ico_is_served_from_the_static_files(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"].endswith("favicon.ico")
    assert response["Location"].startswith("/static/")


@pytest.mark.django_db
def test_storefront_pages_name_their_icon(client):
    body = client.get("/").content.decode()
    assert 'rel="icon" href="/static/favicon.svg"' in body
