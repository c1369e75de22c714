"""Admin users and roles pages, driven through their Dash callbacks as the browser posts them:
each action changes the database, writes its audit entry, and is refused to non-admins."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import select

from dashboard import audit
from dashboard.extensions import db
from dashboard.tables.app import ApiToken, AuditEvent, Role, User
from layouts.admin_roles import ID as ROLES
from layouts.admin_users import ID
from tests.conftest import login
from tests.dashboard.security.dash_requests import find_component, post_callback, response_outputs

ADMIN = "admin@test.client360.dev"


def _last_audit_id() -> int:
    with db.session() as session:
        return session.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1)) or 0


def _audit_since(since: int) -> list[AuditEvent]:
    with db.session() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.id > since).order_by(AuditEvent.id)))


def _user(email: str) -> User | None:
    with db.session() as session:
        return session.scalar(select(User).where(User.email == email))


def _action(client, app, button: str, values: dict[str, object]):
    """Click one of the page's action buttons with the given form values."""
    return post_callback(client, app, f"{ID.ACTION_RESULT}.children", {f"{button}.n_clicks": 1, **values},
                         changed=f"{button}.n_clicks")


def _one_time_password(response) -> str:
    """The password shown once in the create or reset result."""
    return find_component(response.get_json(), "au-one-time-password")["props"]["children"]


@pytest.fixture()
def admin(login_as):
    return login_as("admin")


def test_admin_creates_a_user_with_a_one_time_password_and_a_territory(app, admin, scope_facts):
    email = "new-rep@test.client360.dev"
    since = _last_audit_id()
    response = _action(admin, app, ID.CREATE, {
        f"{ID.NEW_EMAIL}.value": email, f"{ID.NEW_NAME}.value": "New Rep", f"{ID.NEW_ROLE}.value": "sales_manager",
        f"{ID.NEW_TERRITORIES}.value": [scope_facts.territory], f"{ID.NEW_ACCOUNTS}.value": []})
    assert response.status_code == 200
    password = _one_time_password(response)
    assert len(password) >= 12
    user = _user(email)
    assert user is not None and user.role_name == "sales_manager" and user.territories == [scope_facts.territory]
    assert user.must_change_password
    created = [e for e in _audit_since(since) if e.action == audit.USER_CREATED]
    assert [(e.actor, e.target) for e in created] == [(ADMIN, email)]
    assert password not in json.dumps([e.detail for e in _audit_since(since)])  # never written down

    # The new user signs in with it, must change it, then sees their territory only.
    client = app.test_client()
    assert login(client, email, password).status_code == 302
    assert client.get("/api/v1/accounts").status_code == 403  # password change first
    page = client.get("/account/password").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    changed = client.post("/account/password", data={"csrf_token": token, "current_password": password,
                                                      "new_password": "a-brand-new-long-passphrase-42",
                                                      "confirm_password": "a-brand-new-long-passphrase-42"})
    assert changed.status_code == 302, changed.get_data(as_text=True)[:500]
    body = client.get("/api/v1/accounts?per_page=200").get_json()
    assert body["total"] == len(scope_facts.territory_accounts)
    assert {row["territory"] for row in body["accounts"]} == {scope_facts.territory}


def test_a_refused_create_says_why_and_changes_nothing(app, admin):
    since = _last_audit_id()
    response = _action(admin, app, ID.CREATE, {f"{ID.NEW_EMAIL}.value": ADMIN, f"{ID.NEW_ROLE}.value": "billing"})
    assert response.status_code == 200
    assert "already exists" in json.dumps(response_outputs(response))
    assert [e.action for e in _audit_since(since)] == []


@pytest.fixture()
def target_user(app):
    """A fresh billing user to edit."""
    from dashboard.users import create_user
    from tests.conftest import TEST_PASSWORD

    email = f"edit-me-{_last_audit_id()}@test.client360.dev"
    with db.begin() as session:
        user_id = create_user(session, email=email, role="billing", password=TEST_PASSWORD, actor="tests").user.id
    return user_id, email


def test_every_edit_action_changes_the_user_and_is_audited(app, admin, target_user, scope_facts):
    from dashboard.tokens import create_token

    user_id, email = target_user
    with db.begin() as session:
        token, _raw = create_token(session, user_id, name="report script", actor="tests")
        token_id = token.id
    since = _last_audit_id()
    form = {f"{ID.USER}.value": user_id, f"{ID.EDIT_NAME}.value": "Edited Name",
            f"{ID.EDIT_ROLE}.value": "account_manager", f"{ID.EDIT_TERRITORIES}.value": [],
            f"{ID.EDIT_ACCOUNTS}.value": sorted(scope_facts.assigned_accounts)}

    assert "Saved" in json.dumps(response_outputs(_action(admin, app, ID.SAVE, form)))
    user = _user(email)
    assert (user.role_name, user.full_name, sorted(user.account_ids)) == (
        "account_manager", "Edited Name", sorted(scope_facts.assigned_accounts))

    assert "deactivated" in json.dumps(response_outputs(_action(admin, app, ID.TOGGLE_ACTIVE, form)))
    assert _user(email).is_active is False
    assert "reactivated" in json.dumps(response_outputs(_action(admin, app, ID.TOGGLE_ACTIVE, form)))
    assert _user(email).is_active is True

    reset = _action(admin, app, ID.RESET_PASSWORD, form)
    assert len(_one_time_password(reset)) >= 12 and _user(email).must_change_password

    assert "ended" in json.dumps(response_outputs(_action(admin, app, ID.REVOKE_SESSIONS, form)))
    # Deactivation already revoked the token; a fresh one is revoked by the button.
    with db.begin() as session:
        token, _raw = create_token(session, user_id, name="second script", actor="tests")
        second = token.id
    assert "Revoked 1 API token" in json.dumps(response_outputs(_action(admin, app, ID.REVOKE_TOKENS, form)))
    with db.session() as session:
        assert session.get(ApiToken, token_id).revoked_at is not None
        assert session.get(ApiToken, second).revoked_at is not None

    actions = [(e.action, e.actor, e.target) for e in _audit_since(since)
               if e.action != audit.TOKEN_CREATED]
    assert actions == [(a, ADMIN, email) for a in (
        audit.USER_UPDATED, audit.USER_DEACTIVATED, audit.USER_REACTIVATED, audit.PASSWORD_RESET,
        audit.SESSIONS_REVOKED, audit.TOKEN_REVOKED)]


def test_user_list_search_and_edit_form(app, admin, target_user):
    user_id, email = target_user
    listed = post_callback(admin, app, f"{ID.TABLE}.children", {f"{ID.SEARCH}.value": email})
    outputs = response_outputs(listed)
    assert email in json.dumps(outputs[f"{ID.TABLE}.children"])
    assert [o["value"] for o in outputs[f"{ID.USER}.options"]] == [user_id]
    loaded = response_outputs(post_callback(admin, app, f"{ID.EDIT_ROLE}.value", {f"{ID.USER}.value": user_id}))
    assert loaded[f"{ID.EDIT_ROLE}.value"] == "billing"
    nobody = response_outputs(post_callback(admin, app, f"{ID.TABLE}.children",
                                            {f"{ID.SEARCH}.value": "no-such-person-anywhere"}))
    assert "No user matches" in json.dumps(nobody)


def test_role_permissions_are_edited_and_audited(app, admin):
    with db.begin() as session:
        if session.get(Role, "audit_test_role") is None:
            session.add(Role(name="audit_test_role", description="", permissions=["view_sales"]))
    since = _last_audit_id()
    response = post_callback(admin, app, f"{ROLES.RESULT}.children",
                             {f"{ROLES.SAVE}.n_clicks": 1, f"{ROLES.ROLE}.value": "audit_test_role",
                              f"{ROLES.PERMISSIONS}.value": ["view_sales", "view_pii"]})
    assert "Saved the permissions" in json.dumps(response_outputs(response))
    with db.session() as session:
        assert session.get(Role, "audit_test_role").permissions == ["view_sales", "view_pii"]
    events = _audit_since(since)
    assert [(e.action, e.actor, e.target, e.detail) for e in events] == [
        (audit.ROLE_CHANGED, ADMIN, "audit_test_role", {"added": ["view_pii"], "removed": []})]
    refused = post_callback(admin, app, f"{ROLES.RESULT}.children",
                            {f"{ROLES.SAVE}.n_clicks": 1, f"{ROLES.ROLE}.value": "audit_test_role",
                             f"{ROLES.PERMISSIONS}.value": ["fly_to_the_moon"]})
    assert "Unknown permission" in json.dumps(response_outputs(refused))


@pytest.mark.parametrize("role", ["executive", "sales_manager"])
def test_non_admins_are_refused_every_admin_action(app, login_as, role):
    client = login_as(role)
    since = _last_audit_id()
    email = f"sneaky-{role}@test.client360.dev"
    response = _action(client, app, ID.CREATE, {f"{ID.NEW_EMAIL}.value": email, f"{ID.NEW_ROLE}.value": "admin"})
    assert response.status_code == 403
    assert _user(email) is None
    denied = [e for e in _audit_since(since) if e.action == audit.PERMISSION_DENIED]
    assert denied and denied[0].detail["permission"] == "manage_users"
