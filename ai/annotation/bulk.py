"""Inserting many rows fast: PostgreSQL's COPY with ids reserved from the table's sequence, else bulk_create.

Django's bulk_create spends most of an import's time preparing every value of every field in Python;
COPY streams the rows as they are. The ids are taken from the primary key's sequence first (one query),
so the caller gets them back in order, as bulk_create's would be, to insert the rows that point at them.
Run it inside the caller's transaction: a failure rolls everything back as usual.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connections, models, router

COPY_MIN_ROWS = 200  # below this, bulk_create's one statement is as quick


def insert_rows(model: type[models.Model], field_names: Sequence[str], rows: Sequence[Sequence[Any]], *, batch_size: int = 2000) -> list[int]:
    """Insert one row per tuple (values in `field_names` order, foreign keys by `attname` such as
    `label_set_id`, JSON fields as Python values); returns their new ids in order.

    Fields left out take their model default on the bulk_create path, so on the COPY path every
    field without a NULL default must be named (checked).
    """
    if not rows:
        return []
    connection = connections[router.db_for_write(model)]
    meta = model._meta
    fields = [meta.get_field(name) for name in field_names]
    if connection.vendor != "postgresql" or len(rows) < COPY_MIN_ROWS:
        objects = [model(**dict(zip(field_names, row, strict=True))) for row in rows]
        return [obj.pk for obj in model._default_manager.bulk_create(objects, batch_size=batch_size)]
    named = {f.name for f in fields}
    missing = [f.name for f in meta.concrete_fields if not f.primary_key and not f.null and f.name not in named]
    if missing:
        raise ValueError(f"insert_rows({meta.label}): name every NOT NULL field ({', '.join(missing)})")
    return _copy(connection, model, fields, rows)


def _copy(connection, model: type[models.Model], fields: list, rows: Sequence[Sequence[Any]]) -> list[int]:
    from psycopg import sql
    from psycopg.types.json import Jsonb

    meta = model._meta
    table, pk_column = meta.db_table, meta.pk.column
    json_positions = [i for i, f in enumerate(fields) if isinstance(f, models.JSONField)]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)", [table, pk_column, len(rows)]
        )
        ids = [row[0] for row in cursor.fetchall()]
        statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
            sql.Identifier(table), sql.SQL(", ").join(sql.Identifier(c) for c in [pk_column, *(f.column for f in fields)])
        )
        with cursor.copy(statement) as copy:
            for pk, row in zip(ids, rows, strict=True):
                values = list(row)
                for i in json_positions:
                    values[i] = Jsonb(values[i])
                copy.write_row([pk, *values])
    return ids
