"""A GIN index on the weighted full-text vector that shop/search.py builds, on PostgreSQL only.

The expression must stay exactly the one `shop.search._postgres_search` generates, or the planner
will not use the index (tests/storefront/test_catalogue.py checks that it does). Other databases
search with a plain substring match and get nothing here.
"""
from django.db import migrations

INDEX_NAME = "product_search_vector_idx"
CREATE = (
    f"CREATE INDEX IF NOT EXISTS {INDEX_NAME} ON shop_product USING gin (("
    "setweight(to_tsvector('english'::regconfig, COALESCE(title, '')), 'A') || "
    "setweight(to_tsvector('english'::regconfig, COALESCE(description, '')), 'B')))"
)
DROP = f"DROP INDEX IF EXISTS {INDEX_NAME}"


def create_index(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop_index(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("shop", "0001_initial")]

    operations = [migrations.RunPython(create_index, drop_index, elidable=False)]
