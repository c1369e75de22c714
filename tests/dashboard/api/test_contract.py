"""Contract of the data API: each endpoint answers as its OpenAPI document says for a role allowed to
call it, anonymous calls get 401, wrong roles 403, ids unknown or out of scope 404, bad parameters
400, and session calls that change something need the CSRF token while bearer calls do not."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import select

from dashboard.api import ENDPOINT_PERMISSIONS
from dashboard.extensions import db
from dashboard.permissions import AUTHENTICATED, DEFAULT_ROLES
from dashboard.tables.app import AuditEvent
from dashboard.tables.intelligence import Alert
from tests.conftest import ROLES
from tests.dashboard.api.api_support import (
    API,
    ApiFacts,
    assert_error,
    bearer,
    role_email,
    session_csrf_token,
    success_schema,
    token_for,
    validate,
)

UNDOCUMENTED = {("GET", f"{API}/docs/assets/<asset>")}


def _url(template: str, facts: ApiFacts) -> str:
    """An OpenAPI path or Flask rule with its variables filled from the test data (each action path its
    own open action: executing one closes it)."""
    action = facts.spare_actions[0] if template.endswith("/execute") else facts.spare_actions[1]
    values = {"account_id": facts.inside_account, "alert_id": str(facts.alert_id), "action_id": action}
    return re.sub(r"[{<](?:[^:>}]+:)?([^>}]+)[}>]", lambda m: values.get(m.group(1), "x"), template)


def _role_without(permissions: tuple[str, ...]) -> str | None:
    held = {r.name: set(r.permissions) for r in DEFAULT_ROLES}
    return next((role for role in ROLES if not set(permissions) - {AUTHENTICATED} <= held[role]), None)


# --- The document --------------------------------------------------------------------------------


def test_the_document_is_openapi_3_1_and_describes_every_endpoint(document):
    assert document["openapi"] == "3.1.0" and document["servers"] == [{"url": API}]
    described = {(method.upper(), API + re.sub(r"{([^}]+)}", r"<\1>", path))
                 for path, operations in document["paths"].items() for method in operations}
    assert len(described) >= 14
    assert described == set(ENDPOINT_PERMISSIONS) - UNDOCUMENTED
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            assert operation["summary"] and operation["x-permissions"], (method, path)
            for status in ("400", "401", "403"):
                assert operation["responses"][status] == {"$ref": f"#/components/responses/Error{status}"}
            if "{" in path:
                assert "404" in operation["responses"], (method, path)
    error = document["components"]["schemas"]["ErrorResponse"]
    assert error["required"] == ["error"]
    assert document["components"]["schemas"]["ErrorBody"]["required"] == ["status", "code", "message"]


def test_every_operation_answers_as_its_schema_says_for_an_allowed_role(app, document, admin_token, api_facts):
    client = app.test_client()
    checked = 0
    # Acknowledge before resolve: sorted paths put /acknowledge first.
    owner = role_email("admin")  # may act on actions: a valid owner
    for path, operations in sorted(document["paths"].items()):
        for method, operation in operations.items():
            body = ({"due_on": date.today().isoformat(), "owner": owner} if "requestBody" in operation else None)
            response = client.open(API + _url(path, api_facts), method=method.upper(), headers=bearer(admin_token),
                                   json=body)
            assert response.status_code == 200, (method, path, response.get_data(as_text=True)[:300])
            content = operation["responses"]["200"]["content"]
            assert response.mimetype in content, (path, response.mimetype)
            if response.mimetype == "application/json":
                validate(document, content["application/json"]["schema"], response.get_json())
            checked += 1
    assert checked == len(set(ENDPOINT_PERMISSIONS) - UNDOCUMENTED)


def test_answers_hold_real_rows(app, document, admin_token, api_facts):
    client = app.test_client()
    body = client.get(f"{API}/customers", query_string={"q": api_facts.inside_account},
                      headers=bearer(admin_token)).get_json()
    assert body["total"] == 1 and body["customers"][0]["account_id"] == api_facts.inside_account
    alerts = client.get(f"{API}/customers/{api_facts.inside_account}/alerts?include_resolved=true",
                        headers=bearer(admin_token)).get_json()["alerts"]
    assert api_facts.alert_id in {a["alert_id"] for a in alerts}
    recommendations = client.get(f"{API}/customers/{api_facts.inside_account}/recommendations",
                                 headers=bearer(admin_token)).get_json()["recommendations"]
    ours = [r for r in recommendations if r["recommendation_id"] == api_facts.recommendation_id]
    assert len(ours) == 1 and ours[0]["estimated_impact_revenue_usd"] == pytest.approx(12345.67)


def test_recommendation_amounts_are_banded_without_view_financials(app, document, api_facts, scoped_users):
    token = token_for(scoped_users["no_financials"])
    body = app.test_client().get(f"{API}/customers/{api_facts.inside_account}/recommendations",
                                 headers=bearer(token)).get_json()
    validate(document, success_schema(document, "/customers/{account_id}/recommendations", "get"), body)
    ours = [r for r in body["recommendations"] if r["recommendation_id"] == api_facts.recommendation_id]
    assert ours and ours[0]["estimated_impact_revenue_usd"] == "$10k\u2013$50k"


# --- 401, 403 ----------------------------------------------------------------------------------


def test_anonymous_calls_get_401_in_the_error_shape(app, api_facts):
    client = app.test_client()
    for method, rule in ENDPOINT_PERMISSIONS:
        assert_error(client.open(_url(rule, api_facts), method=method), 401)


def test_a_revoked_or_made_up_token_gets_401(app):
    assert_error(app.test_client().get(f"{API}/me", headers=bearer("c360_not-a-real-token")), 401)


def test_a_role_without_the_permission_gets_403(app, api_facts):
    checked = 0
    for (method, rule), permissions in sorted(ENDPOINT_PERMISSIONS.items()):
        role = _role_without(permissions)
        if role is None:
            continue
        response = app.test_client().open(_url(rule, api_facts), method=method,
                                          headers=bearer(token_for(role_email(role))))
        assert_error(response, 403)
        checked += 1
    assert checked >= 8


# --- 404 ---------------------------------------------------------------------------------------


def test_ids_out_of_scope_are_404_like_unknown_ones(app, scoped_users, api_facts):
    token = token_for(scoped_users["sales"])
    client = app.test_client()
    for account in (api_facts.outside_account, "NO-SUCH-ACCOUNT"):
        for tail in ("", "/alerts", "/recommendations"):
            prefix = "/accounts" if tail == "" else "/customers"
            assert_error(client.get(f"{API}{prefix}/{account}{tail}", headers=bearer(token)), 404)
    for alert_id in (api_facts.outside_alert_id, 2**62, 2**64, 0, "abc"):
        assert_error(client.post(f"{API}/alerts/{alert_id}/acknowledge", headers=bearer(token)), 404)
    with db.session() as session:
        assert session.get(Alert, api_facts.outside_alert_id).status == "open"
    # Inside the territory the same calls answer.
    assert client.get(f"{API}/customers/{api_facts.inside_account}/alerts", headers=bearer(token)).status_code == 200


@pytest.mark.parametrize("path", ["/no-such-endpoint", "/customers/ACC-1/nothing", "/alerts/1"])
def test_unknown_paths_are_json_404s(app, admin_token, path):
    assert_error(app.test_client().get(API + path, headers=bearer(admin_token)), 404)


def test_a_wrong_method_is_a_json_405(app, admin_token):
    response = app.test_client().get(f"{API}/alerts/1/acknowledge", headers=bearer(admin_token))
    assert_error(response, 405)
    assert response.headers["Allow"] == "POST"


# --- 400 ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("path", "query"), [
    ("/accounts", {"page": "0"}), ("/accounts", {"per_page": "201"}), ("/accounts", {"page": "two"}),
    ("/customers", {"q": "x" * 201}), ("/customers", {"page": str(10**30)}),
    ("/kpis/morning-coffee", {"start": "2025-02-31"}), ("/kpis/morning-coffee", {"end": "yesterday"}),
    ("/customers/ACC-1/alerts", {"include_resolved": "maybe"}),
])
def test_bad_parameters_are_400_naming_the_parameter(app, admin_token, path, query):
    error = assert_error(app.test_client().get(API + path, query_string=query, headers=bearer(admin_token)),
                         400, "invalid_parameter")
    assert next(iter(query)) in error["message"]


def test_text_postgresql_cannot_store_is_400(app, admin_token):
    response = app.test_client().get(f"{API}/customers", query_string={"q": "a\x00b"}, headers=bearer(admin_token))
    assert_error(response, 400, "unstorable_text")


# --- CSRF --------------------------------------------------------------------------------------


def _audited_changes(alert_id: int) -> list[str]:
    with db.session() as session:
        rows = session.scalars(select(AuditEvent).where(AuditEvent.action == "alert_status")
                               .order_by(AuditEvent.id)).all()
    return [row.detail["status"] for row in rows if row.detail.get("alert_id") == alert_id]


def test_session_posts_need_the_csrf_token_bearer_posts_do_not(app, login_as, api_facts):
    url = f"{API}/alerts/{api_facts.alert_id}/acknowledge"
    with db.begin() as session:  # open again, whatever an earlier test did to it
        alert = session.get(Alert, api_facts.alert_id)
        alert.status, alert.acknowledged_by, alert.resolved_at = "open", None, None
    browser = login_as("support_lead")
    assert_error(browser.post(url), 400, "csrf_failed")
    assert_error(browser.post(url, headers={"X-CSRFToken": "forged"}), 400, "csrf_failed")
    before = len(_audited_changes(api_facts.alert_id))
    response = browser.post(url, headers={"X-CSRFToken": session_csrf_token(browser)})
    assert response.status_code == 200 and response.get_json()["status"] == "acknowledged"
    assert response.get_json()["acknowledged_by"] == role_email("support_lead")

    token = token_for(role_email("support_lead"))
    response = app.test_client().post(f"{API}/alerts/{api_facts.alert_id}/resolve", headers=bearer(token))
    assert response.status_code == 200 and response.get_json()["status"] == "resolved"
    assert _audited_changes(api_facts.alert_id)[before:] == ["acknowledged", "resolved"]
    with db.session() as session:
        assert session.get(Alert, api_facts.alert_id).resolved_at is not None


# --- 413, 429, 500 -------------------------------------------------------------------------------


def test_a_body_too_large_to_read_is_a_json_413(app, admin_token):
    response = app.test_client().post(f"{API}/alerts/1/acknowledge", data={"note": "x" * 600_000},
                                      headers=bearer(admin_token))
    assert_error(response, 413, "payload_too_large")


def test_rate_limits_and_unexpected_failures_answer_in_the_error_shape(app):
    from werkzeug.exceptions import InternalServerError, TooManyRequests

    with app.test_request_context(f"{API}/customers"):
        response = app.handle_http_exception(TooManyRequests(retry_after=30))
        assert_error(response, 429, "too_many_requests")
        assert response.headers["Retry-After"] == "30"
        response = app.handle_user_exception(InternalServerError())
        error = assert_error(response, 500, "internal_error")
        assert "Traceback" not in error["message"]
