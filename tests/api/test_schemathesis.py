"""Property-based run of schemathesis against the live schema on a test server.

Every operation of the merchant API gets generated requests, valid (positive) and invalid (negative),
with a write-scope key; real object ids are mixed into path parameters so that detail endpoints are
reached too. Checks: no 5xx, every status code and content type is documented, and every response
body conforms to the schema.

Schemathesis's own runner then walks the whole schema (the ai endpoints too) in its coverage phase, the
deterministic boundary and wrong-type cases (an object where a string belongs, and so on), checking that
nothing answers 5xx.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

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


@pytest.mark.timeout(600)  # every operation of the whole schema (45 of the merchant API, the ai ones)
@pytest.mark.django_db(transaction=True)
def test_schemathesis_coverage_phase_finds_no_server_errors(live_server, settings_override, merchant, product, tmp_path):
    make_order([(product, 1)])
    client = keyed_client(merchant)
    # Built once per process (the live server's too): here, rather than within the CLI's 10 s schema timeout.
    assert client.get("/api/v1/schema/?format=json").status_code == 200
    cli = Path(sys.executable).with_name("schemathesis")
    command = [
        str(cli), "run", f"{live_server.url}/api/v1/schema/?format=json", "--url", live_server.url,
        "--phases", "coverage", "--checks", "not_a_server_error", "--workers", "1", "--no-color",
        "-H", f"Authorization: Bearer {client.raw_key}", "--request-timeout", "30",
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=540, cwd=tmp_path)
    report = result.stdout[-6000:] + result.stderr[-2000:]
    assert result.returncode == 0, report
    assert "coverage" in result.stdout.lower() and "Server error" not in result.stdout, report


@pytest.fixture
def settings_override(settings):
    # Thousands of requests from one key: lift the throttle for this run only.
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"api_key": "1000000/min"}}
