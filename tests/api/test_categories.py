"""Categories: any key reads the shared tree; only staff sessions change it."""
from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from shop.models import Category
from tests.factories import CategoryFactory, StaffFactory


@pytest.fixture
def staff_client(db) -> APIClient:
    client = APIClient()
    client.force_login(StaffFactory())
    return client


def test_keys_read_but_cannot_write(client_w, category):
    listing = client_w.get("/api/v1/categories/").json()
    assert [c["path"] for c in listing["results"]] == ["home"]
    response = client_w.patch(f"/api/v1/categories/{category.pk}/", {"name": "Mine"}, format="json")
    assert response.status_code == 403 and response.json()["error"]["message"] == "Only staff may change categories."
    category.refresh_from_db()
    assert category.name == "Home"


def test_staff_builds_and_moves_the_tree(staff_client, category):
    created = staff_client.post("/api/v1/categories/", {"name": "Candles", "slug": "candles", "parent": category.pk},
                                format="json")
    assert created.status_code == 201 and created.json()["path"] == "home/candles"
    garden = CategoryFactory(slug="garden")
    moved = staff_client.patch(f"/api/v1/categories/{created.json()['id']}/", {"parent": garden.pk}, format="json")
    assert moved.json()["path"] == "garden/candles"


def test_staff_cannot_make_cycles_or_duplicates(staff_client, category):
    child = CategoryFactory(parent=category, slug="candles")
    cycle = staff_client.patch(f"/api/v1/categories/{category.pk}/", {"parent": child.pk}, format="json")
    assert cycle.status_code == 400 and "parent" in cycle.json()["error"]["fields"]
    twin = staff_client.post("/api/v1/categories/", {"name": "Twin", "slug": "candles", "parent": category.pk},
                             format="json")
    assert twin.status_code == 400 and "slug" in twin.json()["error"]["fields"]
    assert Category.objects.count() == 2


def test_deleting_a_category_with_children_is_409(staff_client, category):
    CategoryFactory(parent=category, slug="candles")
    response = staff_client.delete(f"/api/v1/categories/{category.pk}/")
    assert response.status_code == 409 and response.json()["error"]["code"] == "protected"
    assert Category.objects.filter(pk=category.pk).exists()
