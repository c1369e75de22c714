"""User administration services: validation with clear messages, audit entries in the same
transaction, and the guards that keep at least one administrator."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from dashboard.extensions import db
from dashboard.passwords import verify_password
from dashboard.permissions import ALL_PERMISSIONS, MANAGE_USERS, VIEW_AUDIT
from dashboard.tables.app import Role, User
from dashboard.users import (
    CreatedUser,
    UserError,
    create_user,
    list_users,
    set_role_permissions,
    set_user_active,
    update_user,
)
from tests.dashboard.security.auth_support import (
    PASSWORD,
    audit_events,
    cli,
    client_from,
    new_user,
    random_ip,
    sign_in,
)


def test_create_user_without_password_returns_a_one_time_password(app) -> None:
    with db.begin() as session:
        created = create_user(session, email="  New.Starter@Example.COM ", role="billing",
                              territories=["EMEA", " EMEA ", ""], actor="admin@test.client360.dev")
        assert isinstance(created, CreatedUser) and created.initial_password
        assert created.user.email == "new.starter@example.com" and created.user.territories == ["EMEA"]
        assert created.user.must_change_password
        assert verify_password(created.user.password_hash, created.initial_password)
    event = audit_events("user_created", target="new.starter@example.com")[0]
    assert event.actor == "admin@test.client360.dev" and event.detail["initial_password"] is True
    client = client_from(app, random_ip())
    assert sign_in(client, "new.starter@example.com", created.initial_password).status_code == 302
    assert client.get("/").headers["Location"].endswith("/account/password")


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"email": "no-at-sign", "role": "billing"}, "not a valid email"),
    ({"email": "a@b", "role": "billing"}, "not a valid email"),
    ({"email": "x@example.com", "role": "wizard"}, "Unknown role 'wizard'. Known roles: account_manager"),
    ({"email": "x@example.com", "role": "billing", "password": "password1234"}, "common passwords"),
    ({"email": "admin@test.client360.dev", "role": "billing"}, "already exists"),
    ({"email": "x@example.com", "role": "billing", "territories": [42]}, "must be text"),
])
def test_create_user_refuses_bad_input(app, kwargs, message) -> None:
    with pytest.raises(UserError, match=message), db.begin() as session:
        create_user(session, actor="test", **kwargs)


def test_update_user_changes_and_audits_only_what_changed(app) -> None:
    user_id, email = new_user("sales_manager")
    with db.begin() as session:
        update_user(session, user_id, role="account_manager", territories=["APAC", "EMEA"],
                    account_ids=["ACC-9"], full_name="Pat Scoped", actor="admin@test.client360.dev")
    with db.begin() as session:
        update_user(session, user_id, territories=["APAC", "EMEA"], actor="admin@test.client360.dev")
    (event,) = audit_events("user_updated", target=email)
    assert event.detail["role"] == {"from": "sales_manager", "to": "account_manager"}
    assert event.detail["territories"] == {"from": [], "to": ["APAC", "EMEA"]}
    assert set(event.detail) == {"role", "territories", "account_ids", "full_name"}
    with pytest.raises(UserError, match="No user with id"), db.begin() as session:
        update_user(session, 10**9, role="billing", actor="test")


def test_role_change_applies_at_the_next_request(app) -> None:
    user_id, email = new_user("executive")
    client = client_from(app, random_ip())
    assert sign_in(client, email, PASSWORD).status_code == 302
    assert client.get("/api/v1/me").get_json()["role"] == "executive"
    with db.begin() as session:
        update_user(session, user_id, role="billing", actor="test")
    assert client.get("/api/v1/me").get_json()["role"] == "billing"


def test_list_users_searches_email_name_and_role(app) -> None:
    user_id, email = new_user("marketing_manager", prefix="findme")
    with db.begin() as session:
        update_user(session, user_id, full_name="Quentin Zebra", actor="test")
    with db.session() as session:
        assert [u.email for u in list_users(session, search="ZEBRA")] == [email]
        assert email in [u.email for u in list_users(session, search="marketing_MANAGER")]
        assert list_users(session, search="%") == []  # a literal percent sign, not a wildcard
        everyone = list_users(session)
    assert [u.email for u in everyone] == sorted(u.email for u in everyone)


def test_role_permissions_are_validated_and_audited(app) -> None:
    with db.begin() as session:
        with pytest.raises(UserError, match="Unknown permission"):
            set_role_permissions(session, "billing", ["view_billing", "fly"], actor="test")
    with db.begin() as session:
        before = list(session.get(Role, "support_lead").permissions)
        set_role_permissions(session, "support_lead", [*before, VIEW_AUDIT, VIEW_AUDIT], actor="test")
        assert session.get(Role, "support_lead").permissions.count(VIEW_AUDIT) == 1
    event = audit_events("role_changed", target="support_lead")[0]
    assert event.detail == {"added": [VIEW_AUDIT], "removed": []}
    with db.begin() as session:
        set_role_permissions(session, "support_lead", before, actor="test")


def test_the_last_administrator_cannot_be_removed(app) -> None:
    with db.begin() as session:
        admin_roles = list(session.scalars(select(Role.name).where(Role.permissions.contains([MANAGE_USERS]))))
    with db.begin() as session:
        # Only "admin" keeps manage_users for this check (rolled back afterwards).
        for other_role in admin_roles:
            if other_role != "admin":
                session.get(Role, other_role).permissions = [MANAGE_USERS + "_off"]
        session.flush()
        with pytest.raises(UserError, match="last role with manage_users"):
            set_role_permissions(session, "admin", [p for p in ALL_PERMISSIONS if p != MANAGE_USERS],
                                 actor="test")
        session.rollback()
    with db.session() as session:
        admins = list(session.scalars(select(User).where(User.role_name == "admin", User.is_active)))
    with db.begin() as session:
        # Deactivate every admin but one, then try the last one.
        for other in admins[1:]:
            set_user_active(session, other.id, False, actor="test")
        with pytest.raises(UserError, match="last active user who can manage users"):
            set_user_active(session, admins[0].id, False, actor="test")
        session.rollback()


def test_cli_deactivates_and_reactivates(app, database_url, tmp_path, monkeypatch) -> None:
    c360 = cli(monkeypatch, database_url, tmp_path)
    _, email = new_user()
    result = c360(["users", "deactivate", "--email", email])
    assert result.exit_code == 0 and "deactivated" in result.output
    assert sign_in(client_from(app, random_ip()), email).status_code == 401
    assert c360(["users", "activate", "--email", email]).exit_code == 0
    assert sign_in(client_from(app, random_ip()), email).status_code == 302
    reset = c360(["users", "reset-password", "--email", email])
    assert reset.exit_code == 0
    one_time = reset.output.strip().rsplit(" ", 1)[-1]
    assert sign_in(client_from(app, random_ip()), email, one_time).status_code == 302
    assert audit_events("password_reset", target=email)[0].actor == "cli"
