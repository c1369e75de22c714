"""API tokens: shown once, stored hashed, carry the user's permissions, and stop working when
revoked, expired or when the user is deactivated."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta

import pytest
from flask_login import login_user
from sqlalchemy import select, update

from dashboard.auth import session_user
from dashboard.extensions import db
from dashboard.permissions import DEFAULT_ROLES
from dashboard.tables.app import ApiToken, User
from dashboard.tokens import TokenError, create_token, list_tokens, revoke_token
from dashboard.users import set_user_active, update_user
from layouts import account_settings
from layouts.pages import PAGES
from tests.dashboard.security.auth_support import (
    audit_events,
    cli,
    client_from,
    csrf_token,
    new_user,
    random_ip,
    sign_in,
)

ME = "/api/v1/me"


def _token(user_id: int, **kwargs) -> tuple[int, str]:
    with db.begin() as session:
        token, raw = create_token(session, user_id, name=kwargs.pop("name", "script"), actor="test", **kwargs)
        return token.id, raw


def _bearer(raw: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {raw}"}


def test_token_authenticates_api_calls_with_the_users_permissions(client) -> None:
    user_id, email = new_user("support_lead")
    token_id, raw = _token(user_id)
    response = client.get(ME, headers=_bearer(raw))
    assert response.status_code == 200
    body = response.get_json()
    support = next(r for r in DEFAULT_ROLES if r.name == "support_lead")
    assert body["email"] == email and body["role"] == "support_lead" and body["auth_method"] == "token"
    assert body["permissions"] == sorted(support.permissions)
    assert "Set-Cookie" not in response.headers  # a token call starts no browser session
    with db.session() as session:
        stored = session.get(ApiToken, token_id)
        assert stored.token_hash == hashlib.sha256(raw.encode()).hexdigest()
        assert raw not in (stored.token_hash, stored.token_prefix) and stored.last_used_at is not None


def test_without_or_with_a_wrong_token_the_api_answers_401(app) -> None:
    ip = random_ip()
    client = client_from(app, ip)
    assert client.get(ME).status_code == 401
    for _ in range(3):
        assert client.get(ME, headers=_bearer("c360_not-a-real-token")).status_code == 401
    assert client.get(ME, headers={"Authorization": "Basic dXNlcjpwYXNz"}).status_code == 401
    # Refusals are audited, but once a minute per address rather than once per try.
    refused = [e for e in audit_events("token_refused") if e.ip_address == ip]
    assert len(refused) == 1 and refused[0].detail == {"prefix": "c360_not-a-r"}


def test_revoked_token_is_refused(client) -> None:
    user_id, email = new_user()
    token_id, raw = _token(user_id)
    assert client.get(ME, headers=_bearer(raw)).status_code == 200
    with db.begin() as session:
        revoke_token(session, token_id, actor="test")
    assert client.get(ME, headers=_bearer(raw)).status_code == 401
    assert audit_events("token_revoked", target=email)


def test_expired_token_is_refused(client) -> None:
    user_id, _ = new_user()
    token_id, raw = _token(user_id, expires_days=1)
    assert client.get(ME, headers=_bearer(raw)).status_code == 200
    with db.begin() as session:
        session.execute(update(ApiToken).where(ApiToken.id == token_id)
                        .values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    assert client.get(ME, headers=_bearer(raw)).status_code == 401


def test_deactivation_revokes_the_users_tokens(client) -> None:
    user_id, _ = new_user()
    token_id, raw = _token(user_id)
    with db.begin() as session:
        set_user_active(session, user_id, False, actor="test")
    assert client.get(ME, headers=_bearer(raw)).status_code == 401
    with db.begin() as session:
        set_user_active(session, user_id, True, actor="test")
        assert session.get(ApiToken, token_id).revoked_at is not None
    assert client.get(ME, headers=_bearer(raw)).status_code == 401


def test_tokens_do_not_open_the_dashboard(client) -> None:
    user_id, _ = new_user()
    _, raw = _token(user_id)
    assert client.get("/_dash-layout", headers=_bearer(raw)).status_code == 401


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"name": ""}, "name of 1 to 100"),
    ({"name": "x" * 101}, "name of 1 to 100"),
    ({"expires_days": 0}, "from 1 to 3650"),
    ({"expires_days": 10_000}, "from 1 to 3650"),
])
def test_bad_token_requests_are_refused_with_a_reason(app, kwargs, message) -> None:
    user_id, _ = new_user()
    with pytest.raises(TokenError, match=message), db.begin() as session:
        create_token(session, user_id, actor="test", **{"name": "ok", **kwargs})


def test_my_api_tokens_page_creates_shows_once_and_revokes(app) -> None:
    user_id, email = new_user("billing")
    client = client_from(app, random_ip())
    assert sign_in(client, email).status_code == 302
    empty = client.get("/account/tokens").get_data(as_text=True)
    assert 'id="tokens-empty"' in empty
    created = client.post("/account/tokens", data={"name": "month-end export", "expires_days": "30",
                                                   "csrf_token": csrf_token(client, "/account/tokens")})
    assert created.status_code == 201
    raw = re.search(r'id="new-token-value">([^<]+)<', created.get_data(as_text=True)).group(1)
    api = app.test_client()
    assert api.get(ME, headers=_bearer(raw)).get_json()["email"] == email
    listing = client.get("/account/tokens").get_data(as_text=True)
    assert raw not in listing and raw[:12] in listing and "month-end export" in listing
    with db.session() as session:
        (summary,) = list_tokens(session, user_id)
    assert summary.status == "active" and summary.expires_at is not None
    revoke_form = csrf_token(client, "/account/tokens")
    revoked = client.post(f"/account/tokens/{summary.id}/revoke", data={"csrf_token": revoke_form})
    assert revoked.status_code == 302
    assert api.get(ME, headers=_bearer(raw)).status_code == 401


def test_users_cannot_revoke_each_others_tokens_but_admins_can(app, login_as) -> None:
    owner_id, _ = new_user()
    token_id, raw = _token(owner_id)
    intruder = login_as("executive")
    token = csrf_token(intruder, "/account/tokens")
    assert intruder.post(f"/account/tokens/{token_id}/revoke", data={"csrf_token": token}).status_code == 404
    assert app.test_client().get(ME, headers=_bearer(raw)).status_code == 200
    admin = login_as("admin")
    token = csrf_token(admin, "/account/tokens")
    assert admin.post(f"/account/tokens/{token_id}/revoke", data={"csrf_token": token}).status_code == 302
    assert app.test_client().get(ME, headers=_bearer(raw)).status_code == 401


def test_cli_creates_lists_and_revokes_tokens(app, database_url, tmp_path, monkeypatch) -> None:
    c360 = cli(monkeypatch, database_url, tmp_path)
    _, email = new_user()
    created = c360(["tokens", "create", "--email", email, "--name", "cron", "--expires-days", "7"])
    assert created.exit_code == 0, created.output
    raw = created.output.strip().splitlines()[-1]
    assert app.test_client().get(ME, headers=_bearer(raw)).status_code == 200
    listed = c360(["tokens", "list", "--email", email])
    assert "cron" in listed.output and raw not in listed.output and "active" in listed.output
    with db.session() as session:
        token_id = session.scalar(select(ApiToken.id).where(ApiToken.token_prefix == raw[:12]))
    assert c360(["tokens", "revoke", str(token_id)]).exit_code == 0
    assert app.test_client().get(ME, headers=_bearer(raw)).status_code == 401
    missing = c360(["tokens", "create", "--email", "nobody@x.dev", "--name", "x"])
    assert missing.exit_code != 0 and "No user with email" in missing.output


def test_admins_create_tokens_for_another_user_others_may_not(login_as) -> None:
    owner_id, owner_email = new_user("marketing_manager")
    page = f"/account/tokens?user_id={owner_id}"
    executive = login_as("executive")
    assert executive.get(page).status_code == 404
    admin = login_as("admin")
    assert f"API tokens of {owner_email}" in admin.get(page).get_data(as_text=True)
    created = admin.post(page, data={"name": "bi connector", "csrf_token": csrf_token(admin, page)})
    assert created.status_code == 201
    raw = re.search(r'id="new-token-value">([^<]+)<', created.get_data(as_text=True)).group(1)
    me = admin.application.test_client().get(ME, headers=_bearer(raw)).get_json()
    assert me["email"] == owner_email and me["role"] == "marketing_manager"
    event = audit_events("token_created", target=owner_email)[0]
    assert event.actor == "admin@test.client360.dev" and event.detail["name"] == "bi connector"
    assert admin.get("/account/tokens?user_id=999999999").status_code == 404


def test_my_account_page_links_to_tokens_password_and_totp(app) -> None:
    user_id, email = new_user("sales_manager")
    with db.begin() as session:
        update_user(session, user_id, territories=["EMEA"], actor="test")
    with app.test_request_context("/account"), db.session() as session:
        login_user(session_user(session.get(User, user_id)))
        rendered = str(account_settings.layout())
    for href in ("/account/password", "/account/tokens", "/account/totp"):
        assert href in rendered
    assert email in rendered and "EMEA" in rendered and "sales manager" in rendered
    assert any(p.path == "/account" and p.in_navbar for p in PAGES)
