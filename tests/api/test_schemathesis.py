"""Property-based run of schemathesis against the live schema on a test server.

Every operation of the merchant API gets generated requests, valid (positive) and invalid (negative),
with a write-scope key; real object ids are mixed into path parameters so that detail endpoints are
reached too. Checks: no 5xx, every status code and content type is documented, and every response
body conforms to the schema.

Schemathesis's own runner walks the whole schema in its coverage phase in test_schemathesis_coverage.py
(a file of its own, so that `make test`'s xdist workers run the two long tests side by side).
"""
from __future__ import annotations

import os

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.api.conftest import keyed_client, make_order

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
# More examples for a deeper local run: API_FUZZ_EXAMPLES=200 pytest tests/api/test_schemathesis.py
MAX_EXAMPLES = int(os.environ.get("API_FUZZ_EXAMPLES", "12"))


@pytest.mark.django_db(transaction=True)
def test_schemathesis_finds_no_server_errors(live_server, settings_override, merchant, product, category):
    from shop.models import Supplier
    from shop.services import purchasing

    order = make_order([(product, 1)])
    supplier = Supplier.objects.create(merchant=merchant, name="Acme Wholesale")
    purchase_order = purchasing.create_purchase_order(supplier, {product.pk: 3})
    client = keyed_client(merchant)
    spec = client.get("/api/v1/schema/?format=json").json()
    schema = schemathesis.openapi.from_dict(spec).include(path_regex=MERCHANT_PATHS)
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {client.raw_key}"
    real_ids = {
        "/api/v1/suppliers/": {"id": supplier.pk}, "/api/v1/purchase-orders/": {"id": purchase_order.pk},
        "/api/v1/inventory-defaults/": {"merchant": merchant.slug}, "": {"id": product.pk, "number": order.number},
    }
    try:
        fuzz(schema, session, live_server.url, real_ids)
    finally:
        session.close()  # before the live server stops, so no request thread outlives the test


MERCHANT_PATHS = (r"^/api/v1/(products|categories|orders|suppliers|inventory-defaults|purchase-orders|forecasts"
                  r"|reorder-suggestions)")


def fuzz(schema, session: requests.Session, base_url: str, real_ids: dict[str, dict]) -> None:
    """Positive and negative cases for every operation, half of them on real object ids (per path prefix)."""
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 45
    for operation in operations:
        strategies = [operation.as_strategy(mode) for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)]
        ids = next(ids for prefix, ids in real_ids.items() if operation.path.startswith(prefix))
        known = {name: value for name, value in ids.items() if "{" + name + "}" in operation.path}
        if known:
            strategies.append(operation.as_strategy(GenerationMode.POSITIVE, path_parameters=known))
            strategies.append(operation.as_strategy(GenerationMode.NEGATIVE, path_parameters=known))

        @settings(max_examples=MAX_EXAMPLES, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        @given(case=st.one_of(strategies))
        def run(case):
            response = case.call(base_url=base_url, session=session)
            case.validate_response(response, checks=CHECKS)

        run()
