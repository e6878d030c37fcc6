"""ai.compiled.CompiledRows: a values_list queryset compiled once, run again with other values."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.db import connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from ai.compiled import CompiledRows
from ai.models import Event

from .conftest import add_events


def by_products(values, *shape):
    (kind,) = shape
    return (
        Event.objects.filter(product_id__in=values, event_type=kind)
        .order_by("product_id", "pk")
        .values_list("product_id", "visitor_id", "created_at")
    )


@pytest.fixture
def events(db):
    start = timezone.now() - timedelta(hours=1)
    add_events("anna", [1, 2, 3, 4], start=start)
    add_events("bert", [3, 4, 5], start=start, event_type="purchase")
    add_events("carl", [5, 6], start=start)


def test_rows_are_the_querysets_rows_converted_the_same_way(events):
    compiled = CompiledRows(Event, by_products)
    for values, kind in (([1, 3], "view"), ([4, 6], "view"), ([3, 4, 5], "purchase"), ([7, 8], "view")):
        expected = list(by_products(values, kind))
        assert compiled.rows(values, kind) == expected
    rows = compiled.rows([5, 6], "view")
    assert [(p, v) for p, v, _ in rows] == [(5, "carl"), (6, "carl")]
    assert all(isinstance(at, datetime) and at.tzinfo is not None for _, _, at in rows)  # the converters ran


def test_compiled_once_per_shape(events, monkeypatch):
    compiled = CompiledRows(Event, by_products)
    compiles = []
    original = compiled._compile
    monkeypatch.setattr(compiled, "_compile", lambda *a: compiles.append(a[1:]) or original(*a))
    compiled.rows([1, 2], "view")
    with CaptureQueriesContext(connection) as orm:
        expected = list(by_products([5, 6], "view"))
    with CaptureQueriesContext(connection) as queries:
        assert compiled.rows([5, 6], "view") == expected
    assert [q["sql"] for q in queries.captured_queries] == [q["sql"] for q in orm.captured_queries]
    assert len(compiles) == 1
    compiled.rows([1, 2, 3], "view")  # another number of values
    compiled.rows([1, 2], "purchase")  # another shape
    assert compiled.rows(["1", "2"], "view") == list(by_products([1, 2], "view"))  # other types: through the ORM
    assert len(compiles) == 4


def test_what_cannot_be_reused_goes_through_the_orm(events):
    def derived(values):
        (value,) = values
        return Event.objects.filter(Q(product_id=value) | Q(product_id=value - 2)).values_list("visitor_id")

    def doubled(values):
        (value,) = values
        return Event.objects.filter(Q(product_id=value) | Q(product_id__gt=value)).values_list("visitor_id")

    # A parameter derived from the value: reusing the SQL would keep the first call's (5 - 2 = 3: anna's, bert's)
    assert sorted(CompiledRows(Event, derived).rows([5])) == [("anna",), ("bert",), ("bert",), ("carl",)]
    assert sorted(CompiledRows(Event, derived).rows([6])) == [("anna",), ("bert",), ("carl",)]
    assert sorted(CompiledRows(Event, doubled).rows([5])) == [("bert",), ("carl",), ("carl",)]  # used twice
    assert CompiledRows(Event, by_products, max_values=2).rows([3, 4, 5], "view") == list(by_products([3, 4, 5], "view"))
    assert CompiledRows(Event, by_products).rows([], "view") == []
    with pytest.raises(TypeError):
        CompiledRows(Event, by_products).rows([1.5], "view")


def test_the_compiled_queries_kept_are_bounded(events):
    """At most `max_shapes` compiled queries per thread: past that they are all forgotten and compiled anew."""
    compiled = CompiledRows(Event, by_products, max_shapes=3)
    for count in range(1, 4):
        compiled.rows(list(range(1, count + 1)), "view")
    assert len(compiled._local.cache) == 3
    assert compiled.rows([1, 2, 3, 4], "view") == list(by_products([1, 2, 3, 4], "view"))
    assert len(compiled._local.cache) == 1
