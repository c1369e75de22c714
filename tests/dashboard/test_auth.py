"""Login, logout, wrong passwords, and the gate in front of Dash's routes."""

from __future__ import annotations

import json

from sqlalchemy import select

from dashboard.extensions import db
from dashboard.tables.app import AuditEvent
from tests.conftest import login
from tests.dashboard.security.auth_support import sign_out

DASH_UPDATE = "/_dash-update-component"


def _latest_audit(action: str) -> AuditEvent | None:
    with db.session() as session:
        return session.scalar(select(AuditEvent).where(AuditEvent.action == action)
                              .order_by(AuditEvent.id.desc()).limit(1))


def test_pages_redirect_anonymous_to_login(client) -> None:
    response = client.get("/executive")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=/executive")


def test_dash_routes_answer_401_to_anonymous(client) -> None:
    for path in ("/_dash-layout", "/_dash-dependencies"):
        assert client.get(path).status_code == 401
    body = {"output": "mc-kpis.children", "outputs": {"id": "mc-kpis", "property": "children"},
            "inputs": [], "changedPropIds": []}
    response = client.post(DASH_UPDATE, data=json.dumps(body), content_type="application/json")
    assert response.status_code == 401


def test_login_page_has_csrf_and_security_headers(client) -> None:
    response = client.get("/login")
    assert response.status_code == 200
    assert 'name="csrf_token"' in response.get_data(as_text=True)
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_login_without_csrf_token_is_refused(client) -> None:
    response = client.post("/login", data={"email": "executive@test.client360.dev",
                                           "password": "correct-horse-battery-staple"})
    assert response.status_code == 401
    assert client.get("/executive").status_code == 302


def test_wrong_password_is_refused_and_audited(client) -> None:
    response = login(client, "executive@test.client360.dev", "not-the-password")
    assert response.status_code == 401
    assert "do not match" in response.get_data(as_text=True)
    event = _latest_audit("login_failed")
    assert event is not None and event.actor == "executive@test.client360.dev"
    assert client.get("/_dash-layout").status_code == 401


def test_unknown_email_is_refused(client) -> None:
    assert login(client, "nobody@test.client360.dev").status_code == 401


def test_login_then_logout(client) -> None:
    response = login(client, "EXECUTIVE@test.client360.dev")
    assert response.status_code == 302
    assert client.get("/_dash-layout").status_code == 200
    cookie = response.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert _latest_audit("login").actor == "executive@test.client360.dev"
    response = sign_out(client)
    assert response.status_code == 302 and "signed_out" in response.headers["Location"]
    assert client.get("/_dash-layout").status_code == 401
    assert client.get("/executive").status_code == 302


def test_a_signed_in_request_that_changes_nothing_sends_no_cookie(client) -> None:
    """A late answer to a callback of a page already left must not overwrite the cookie that the page
    now open has changed (its form token): the sign-out form then read as expired."""
    login(client, "executive@test.client360.dev")
    logout_page = client.get("/logout")  # stores the form's token in the session: a new cookie
    assert logout_page.status_code == 200 and "Set-Cookie" in logout_page.headers
    for path in ("/_dash-layout", "/_dash-dependencies", "/executive"):
        response = client.get(path)
        assert response.status_code == 200 and "Set-Cookie" not in response.headers, path
    assert sign_out(client).status_code == 302


def test_next_parameter_cannot_leave_the_site(client) -> None:
    page = client.get("/login?next=//evil.example/steal")
    assert page.status_code == 200
    response = login(client, "executive@test.client360.dev")
    assert response.headers["Location"] == "/executive"  # the role's landing page, not the foreign site


def test_deactivated_user_is_logged_out_at_next_request(app) -> None:
    from dashboard.tables.app import User
    from dashboard.users import create_user

    with db.begin() as session:
        create_user(session, email="leaver@test.client360.dev", role="executive",
                    password="correct-horse-battery-staple")
    client = app.test_client()
    assert login(client, "leaver@test.client360.dev").status_code == 302
    assert client.get("/_dash-layout").status_code == 200
    with db.begin() as session:
        session.scalar(select(User).where(User.email == "leaver@test.client360.dev")).is_active = False
    assert client.get("/_dash-layout").status_code == 401


def test_undeclared_callback_output_is_forbidden(login_as) -> None:
    client = login_as("admin")
    body = {"output": "not-a-real-output.children",
            "outputs": {"id": "not-a-real-output", "property": "children"},
            "inputs": [], "changedPropIds": []}
    response = client.post(DASH_UPDATE, data=json.dumps(body), content_type="application/json")
    assert response.status_code == 403
    denial = _latest_audit("permission_denied")
    assert denial is not None and denial.target == "callback:not-a-real-output.children"


def test_malformed_callback_request_is_rejected(login_as) -> None:
    client = login_as("executive")
    response = client.post(DASH_UPDATE, data="not json", content_type="application/json")
    assert response.status_code == 400


def test_navbar_lists_only_permitted_pages(login_as) -> None:
    layout = login_as("executive").get("/_dash-layout").get_data(as_text=True)
    assert "nav-executive" in layout
    layout = login_as("support_lead").get("/_dash-layout").get_data(as_text=True)
    assert "nav-executive" not in layout
