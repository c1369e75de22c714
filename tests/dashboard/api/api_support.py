"""Fixtures and checks for the data API tests: tokens per user, the OpenAPI document, the error shape,
a session's CSRF token, and an alert and a recommendation made for the tests (removed afterwards)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

import pytest
from jsonschema import Draft202012Validator
from sqlalchemy import delete, func, select

from dashboard.extensions import db
from dashboard.tables.app import User
from dashboard.tables.intelligence import ALERT_KINDS, ActionExecution, Alert, NextBestAction
from dashboard.tokens import create_token

API = "/api/v1"
ERROR_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
               405: "method_not_allowed", 409: "conflict", 413: "payload_too_large",
               429: "too_many_requests", 500: "internal_error"}


def token_for(email: str, name: str = "api tests") -> str:
    with db.begin() as session:
        user_id = session.scalar(select(User.id).where(User.email == email))
        assert user_id is not None, email
        _, raw = create_token(session, user_id, name=name, actor="tests")
    return raw


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def role_email(role: str) -> str:
    return f"{role}@test.client360.dev"


def assert_error(response, status: int, code: str | None = None) -> dict:
    """The API's one error shape, with this status (and code, when given)."""
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True)[:300])
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == {"error"} and set(body["error"]) == {"status", "code", "message"}, body
    assert body["error"]["status"] == status and body["error"]["message"]
    assert body["error"]["code"] == (code or ERROR_CODES[status])
    return body["error"]


def example_body(method: str, rule: str) -> dict | None:
    """The documented example of an endpoint's JSON request body (None when it reads none), so a call
    gets past body validation to the permission, scope and state checks."""
    from dashboard.api import OPERATIONS

    for op in OPERATIONS:
        if op.body is not None and (op.method, API + op.rule) == (method, rule):
            return op.body.model_json_schema()["examples"][0]
    return None


def session_csrf_token(client) -> str:
    """The CSRF token of a signed-in browser session, as the docs page hands it to Swagger UI."""
    page = client.get(f"{API}/docs").get_data(as_text=True)
    found = re.search(r'<meta name="csrf-token" content="([^"]+)"', page)
    assert found, "the docs page carries no CSRF token"
    return found.group(1)


def validate(document: dict, ref: dict, body: object) -> None:
    """`body` against a schema of the OpenAPI document (JSON Schema 2020-12, as OpenAPI 3.1 says)."""
    schema = {**ref, "components": document["components"]}
    errors = sorted(Draft202012Validator(schema).iter_errors(body), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors[:5]]


def success_schema(document: dict, path: str, method: str) -> dict:
    return document["paths"][path][method]["responses"]["200"]["content"]["application/json"]["schema"]


@pytest.fixture(scope="session")
def admin_token(app) -> str:
    return token_for(role_email("admin"), "api admin")


@pytest.fixture(scope="session")
def document(app, admin_token) -> dict:
    response = app.test_client().get(f"{API}/openapi.json", headers=bearer(admin_token))
    assert response.status_code == 200
    return response.get_json()


SPARE_ACTIONS = 6


def open_test_action(action_id: str, account_id: str) -> NextBestAction:
    """An open recommended action made for the tests (removed with its execution log afterwards)."""
    return NextBestAction(
        recommendation_id=action_id, customer_id=account_id, rule_id="api_test", priority="HIGH",
        action_type="Retention", action_title=f"Call the customer ({action_id})",
        action_description="Renewal is near.", expected_outcome="Renewal signed",
        estimated_impact_revenue_usd=Decimal("12345.67"), status="open", condition_open=False,
        created_at=func.now(), updated_at=func.now())


@dataclass(frozen=True)
class ApiFacts:
    """An alert and a recommendation on a customer inside the scoped sales manager's territory, and an
    alert on a customer outside it."""

    inside_account: str
    outside_account: str
    alert_id: int
    outside_alert_id: int
    recommendation_id: str
    # Open actions on the inside customer that tests may execute or schedule (never the one above).
    spare_actions: tuple[str, ...]


@pytest.fixture(scope="module")
def api_facts(app, scope_facts) -> Iterator[ApiFacts]:
    with db.begin() as session:
        # One unresolved alert per customer and kind (the scoring job may have raised some): each test
        # alert takes a kind its customer has none of.
        unresolved = select(Alert.account_id, Alert.kind).where(Alert.status != "resolved")
        taken = {(account, kind) for account, kind in session.execute(unresolved)}

        def free_kind(account: str) -> str | None:
            return next((kind for kind in ALERT_KINDS if (account, kind) not in taken), None)

        inside = next((a for a in sorted(scope_facts.territory_accounts) if free_kind(a)), None)
        outside = scope_facts.other_account
        assert inside and free_kind(outside)
        alerts = [Alert(account_id=account, kind=free_kind(account), severity="HIGH", status="open",
                        title=f"Renewal due for {account}", description="Contract renews in 30 days.")
                  for account in (inside, outside)]
        session.add_all(alerts)
        recommendation_id = f"api-test-{inside}"
        actions = (recommendation_id, *(f"api-test-{n}-{inside}" for n in range(1, SPARE_ACTIONS + 1)))
        session.add_all(open_test_action(action_id, inside) for action_id in actions)
        session.flush()
        facts = ApiFacts(inside, outside, alerts[0].alert_id, alerts[1].alert_id, recommendation_id, actions[1:])
    yield facts
    with db.begin() as session:
        session.execute(delete(Alert).where(Alert.alert_id.in_((facts.alert_id, facts.outside_alert_id))))
        session.execute(delete(ActionExecution).where(ActionExecution.recommendation_id.in_(actions)))
        session.execute(delete(NextBestAction).where(NextBestAction.recommendation_id.in_(actions)))
