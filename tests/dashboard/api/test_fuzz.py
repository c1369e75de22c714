"""Schemathesis against the OpenAPI document, with real tokens, for every GET and POST operation:
no input may get a server error or an answer the document does not describe.

Reads run as the admin (every permission, every account). Changes run as a sales manager linked to
no CRM user and assigned nothing: every alert id is outside their scope, so the fuzzing exercises the
whole request path (token, parsing, validation, scope) without acknowledging real alerts.
Deterministic and small (MAX_EXAMPLES per operation) so it stays a few seconds of the suite.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from dashboard.api import OPERATIONS
from tests.dashboard.api.api_support import API, bearer, role_email, token_for

MAX_EXAMPLES = 40


@pytest.fixture(scope="module")
def fuzz_tokens(app) -> dict[str, str]:
    return {"GET": token_for(role_email("admin"), "fuzz reads"),
            "POST": token_for(role_email("sales_manager"), "fuzz changes")}


@pytest.fixture(scope="module")
def openapi_schema(app, fuzz_tokens):
    loaded = schemathesis.openapi.from_wsgi(f"{API}/openapi.json", app, headers=bearer(fuzz_tokens["GET"]))
    loaded.config.generation.update(max_examples=MAX_EXAMPLES, deterministic=True, database="none")
    return loaded


@pytest.mark.parametrize(("method", "path"), sorted({(op.method, op.openapi_path) for op in OPERATIONS}))
def test_no_input_breaks_the_api(openapi_schema, fuzz_tokens, method, path):
    operation = openapi_schema[path][method]
    cases = st.one_of(operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE))
    headers = bearer(fuzz_tokens[method])

    @given(case=cases)
    @settings(max_examples=MAX_EXAMPLES, derandomize=True, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    def call(case):
        case.call_and_validate(headers=headers)

    call()
