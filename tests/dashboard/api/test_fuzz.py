"""Schemathesis against the OpenAPI document, with real tokens, for every GET and POST operation:
no input may get a server error or an answer the document does not describe.

Reads run as the admin (every permission, every account). Changes run as a sales manager linked to
no CRM user and assigned nothing: every alert id is outside their scope, so the fuzzing exercises the
whole request path (token, parsing, validation, scope) without acknowledging real alerts.
Deterministic and small (MAX_EXAMPLES per operation) so it stays a few seconds of the suite.

Random customer ids are nearly all unknown (a 404 before any query), so valid examples of a customer's
endpoints read a real customer instead: its timeline, 360 view and lists then answer with real rows for
every page, type and date the generator tries. Valid-by-schema requests may still be refused there
(a start after the end is a 400 no schema can express), so those examples skip schemathesis's
"valid data is accepted" check; every other check still applies.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance
from sqlalchemy import select

from dashboard.api import OPERATIONS
from dashboard.extensions import db
from dashboard.tables.gold import Customer360
from tests.dashboard.api.api_support import API, bearer, role_email, token_for

MAX_EXAMPLES = 40


@pytest.fixture(scope="module")
def fuzz_tokens(app) -> dict[str, str]:
    return {"GET": token_for(role_email("admin"), "fuzz reads"),
            "POST": token_for(role_email("sales_manager"), "fuzz changes")}


@pytest.fixture(scope="module")
def real_customer(app) -> str:
    with db.session() as session:
        account_id = session.scalar(select(Customer360.account_id)
                                    .order_by(Customer360.mrr_usd.desc(), Customer360.account_id).limit(1))
    assert account_id
    return account_id


@pytest.fixture(scope="module")
def openapi_schema(app, fuzz_tokens):
    loaded = schemathesis.openapi.from_wsgi(f"{API}/openapi.json", app, headers=bearer(fuzz_tokens["GET"]))
    loaded.config.generation.update(max_examples=MAX_EXAMPLES, deterministic=True, database="none")
    return loaded


@pytest.mark.parametrize(("method", "path"), sorted({(op.method, op.openapi_path) for op in OPERATIONS}))
def test_no_input_breaks_the_api(openapi_schema, fuzz_tokens, real_customer, method, path):
    operation = openapi_schema[path][method]
    cases = st.one_of(operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE))
    # Responses are compressed for clients that ask; the test transport does not decompress.
    headers = {**bearer(fuzz_tokens[method]), "Accept-Encoding": "identity"}

    @given(case=cases)
    @settings(max_examples=MAX_EXAMPLES, derandomize=True, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    def call(case):
        if method == "GET" and "account_id" in (case.path_parameters or {}) and case.meta.generation.mode.is_positive:
            case.path_parameters["account_id"] = real_customer
            case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance])
        else:
            case.call_and_validate(headers=headers)

    call()
