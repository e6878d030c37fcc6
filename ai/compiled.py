"""Read queries on the serving path that the ORM compiles once and runs again with other values.

A recommendation call runs two small queries (the shopper's history, the candidates' products), and the
database answers each in a fraction of the time Django takes to build the queryset and compile it to
SQL. `CompiledRows` has the ORM compile a `values_list` queryset once per database, thread and shape
(the number of values, and whatever else the caller says changes the SQL), with placeholder values in
the slots of the real ones; each call then runs that SQL with its own values in those slots (the SQL and
parameters the queryset would have produced) and converts the rows with the same compiler, through
`results_iter`, exactly as `values_list` does. Only the compiling is saved.

A queryset whose parameters do not show each placeholder exactly once (the ORM rewrote a value, or
used one twice) is not reused: it runs through the ORM every time, as it would without this.
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Sequence
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connections, router
from django.db.models import Model, QuerySet

# Placeholders: values no caller passes (large negative ids, strings with a control character).
_INT_BASE = -987_654_321_000
_STR_PREFIX = "\x1fai-compiled-placeholder-"


def _kind(value: Any) -> type:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise TypeError(f"CompiledRows takes ints and strings, not {type(value).__name__}")
    return int if isinstance(value, int) else str


def _placeholder(kind: type, n: int, variant: int) -> int | str:
    return _INT_BASE - 1000 * variant - n if kind is int else f"{_STR_PREFIX}{variant}-{n}"


class CompiledRows:
    """`build(values, *shape)` -> a `values_list` queryset of `model` in which each of `values` is one
    parameter of the SQL. `rows(values, *shape)` returns `list(build(values, *shape))`, having compiled
    it once per database, thread and (the values' types, shape); more than `max_values` values go through
    the ORM each time (long lists are not on the serving path, and each length would be compiled anew)."""

    def __init__(
        self, model: type[Model], build: Callable[..., QuerySet], *, max_values: int = 256, max_shapes: int = 512
    ):
        self.model = model
        self._build = build
        self.max_values = max_values
        self.max_shapes = max_shapes
        self._local = threading.local()  # a compiler holds its thread's connection: one cache per thread

    def _compile_with(self, alias: str, kinds: tuple[type, ...], shape: tuple[Hashable, ...], variant: int):
        placeholders = [_placeholder(kind, n, variant) for n, kind in enumerate(kinds)]
        try:
            compiler = self._build(placeholders, *shape).using(alias).query.get_compiler(alias)
            sql, params = compiler.as_sql()
        except (EmptyResultSet, TypeError, ValueError):  # `pk__in=[]` (no query), a string for a number…
            return None  # the ORM decides, every time
        slots = []
        for placeholder in placeholders:
            found = [n for n, param in enumerate(params) if type(param) is type(placeholder) and param == placeholder]
            if len(found) != 1:
                return None
            slots.append(found[0])
        others = [param for n, param in enumerate(params) if n not in set(slots)]
        return compiler, sql, tuple(params), slots, others

    def _compile(self, alias: str, kinds: tuple[type, ...], shape: tuple[Hashable, ...]):
        """(compiler, sql, params, slot of each value), or None when this queryset cannot be reused: compiled
        with two sets of placeholders, which must give the same SQL and differ only in the values' slots
        (a parameter derived from a value, such as `value + 1`, would differ too)."""
        first = self._compile_with(alias, kinds, shape, 1)
        second = self._compile_with(alias, kinds, shape, 2)
        if first is None or second is None or first[1:2] + (first[3], first[4]) != second[1:2] + (second[3], second[4]):
            return None
        return first[:4]

    def rows(self, values: Sequence[int | str], *shape: Hashable) -> list[tuple]:
        values = list(values)
        if len(values) > self.max_values:
            return list(self._build(values, *shape))
        alias = router.db_for_read(self.model)
        key = (alias, tuple(_kind(value) for value in values), shape)
        cache: dict[tuple, Any] | None = getattr(self._local, "cache", None)
        if cache is None or len(cache) >= self.max_shapes:
            cache = self._local.cache = {}
        if key not in cache:
            cache[key] = self._compile(alias, key[1], shape)
        compiled = cache[key]
        if compiled is None:
            return list(self._build(values, *shape).using(alias))
        compiler, sql, params, slots = compiled
        bound = list(params)
        for slot, value in zip(slots, values, strict=True):
            bound[slot] = value
        with connections[alias].cursor() as cursor:
            cursor.execute(sql, bound)
            fetched = cursor.fetchall()
        return list(compiler.results_iter(results=[fetched], tuple_expected=True))
