"""Property-based run of schemathesis against POST /api/v1/events/ on a live server: generated valid and
invalid batches never cause a server error, and every answer matches the documented schema."""
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

from shop.services.api_keys import create_api_key
from tests.factories import MerchantFactory, ProductFactory

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
MAX_EXAMPLES = int(os.environ.get("API_FUZZ_EXAMPLES", "25"))


@pytest.mark.django_db(transaction=True)
def test_fuzzed_event_batches_never_cause_a_server_error(live_server):
    ProductFactory()
    _, raw_key = create_api_key(MerchantFactory(), scope="ai")
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {raw_key}"
    spec = session.get(live_server.url + "/api/v1/schema/?format=json").json()
    schema = schemathesis.openapi.from_dict(spec).include(path_regex=r"^/api/v1/events/$")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert [op.path for op in operations] == ["/api/v1/events/"]
    operation = operations[0]
    statuses = []

    @settings(max_examples=MAX_EXAMPLES, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(case=st.one_of([operation.as_strategy(mode) for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)]))
    def run(case):
        response = case.call(base_url=live_server.url, session=session)
        statuses.append(response.status_code)
        case.validate_response(response, checks=CHECKS)

    run()
    assert len(statuses) >= min(MAX_EXAMPLES, 10) and 400 in statuses
