from __future__ import annotations

import pytest
from drf_spectacular.generators import SchemaGenerator

from shop.api import schema_view


@pytest.fixture
def built(monkeypatch):
    """Counts how often the schema is generated."""
    schema_view.clear()
    calls = []
    original = SchemaGenerator.get_schema

    def counting(self, *args, **kwargs):
        calls.append(1)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(SchemaGenerator, "get_schema", counting)
    yield calls
    schema_view.clear()


@pytest.mark.django_db
def test_the_schema_is_generated_once_per_process(client, built):
    first = client.get("/api/v1/schema/?format=json")
    second = client.get("/api/v1/schema/?format=json")
    yaml = client.get("/api/v1/schema/")
    assert first.status_code == second.status_code == yaml.status_code == 200
    assert first.json() == second.json() and "/api/v1/products/" in first.json()["paths"]
    assert yaml.content.startswith(b"openapi:")
    assert len(built) == 1
    assert first["Cache-Control"] == "public, max-age=300"


@pytest.mark.django_db
def test_warming_builds_the_schema_before_the_first_visit(client, built):
    schema_view.warm()
    assert len(built) == 1
    rendered = len(schema_view._rendered)
    assert client.get("/api/v1/schema/", HTTP_ACCEPT="application/json").status_code == 200
    assert client.get("/api/v1/schema/").content.startswith(b"openapi:")
    assert len(built) == 1 and len(schema_view._rendered) == rendered == 2  # nothing built or rendered again
