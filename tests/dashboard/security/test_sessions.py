"""Server-side sessions: logout and revocation end them, idle and absolute limits expire them,
deactivation and password resets take effect at the next request."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from dashboard.auth import hash_session_id
from dashboard.extensions import db
from dashboard.tables.app import UserSession
from dashboard.users import reset_password, revoke_sessions, set_user_active
from tests.dashboard.security.auth_support import (
    PASSWORD,
    audit_events,
    client_from,
    csrf_token,
    new_user,
    random_ip,
    settings_changed,
    sign_in,
    sign_out,
    user_row,
)

DASH_LAYOUT = "/_dash-layout"


def _signed_in(app, role: str = "executive"):
    user_id, email = new_user(role)
    client = client_from(app, random_ip())
    assert sign_in(client, email).status_code == 302
    assert client.get(DASH_LAYOUT).status_code == 200
    return client, user_id, email


def _session_cookie(client) -> str:
    return client.get_cookie("session").value


def _replay(app, client, cookie: str):
    """Another client presenting a copied cookie, from the same address and browser."""
    other = client_from(app, client.environ_base["REMOTE_ADDR"])
    other.set_cookie("session", cookie)
    return other


def _age_sessions(user_id: int, **values: datetime) -> None:
    with db.begin() as session:
        session.execute(update(UserSession).where(UserSession.user_id == user_id).values(**values))


def test_session_row_holds_only_a_hash_of_the_cookie_id(app) -> None:
    client, user_id, _ = _signed_in(app)
    with client.session_transaction() as cookie_session:
        raw_sid = cookie_session["sid"]
    with db.session() as session:
        rows = list(session.scalars(select(UserSession).where(UserSession.user_id == user_id)))
    assert [r.sid_hash for r in rows] == [hash_session_id(raw_sid)]
    assert raw_sid not in rows[0].sid_hash and rows[0].revoked_at is None


def test_each_sign_in_gets_a_new_session_id(app) -> None:
    user_id, email = new_user()
    client = client_from(app, random_ip())
    client.get("/login")
    with client.session_transaction() as cookie_session:
        cookie_session["sid"] = "planted-by-an-attacker"
    assert sign_in(client, email).status_code == 302
    with client.session_transaction() as cookie_session:
        assert cookie_session["sid"] != "planted-by-an-attacker"


def test_logout_invalidates_the_session_server_side(app) -> None:
    client, _, email = _signed_in(app)
    stolen = _session_cookie(client)
    assert _replay(app, client, stolen).get(DASH_LAYOUT).status_code == 200
    assert sign_out(client).status_code == 302
    assert client.get(DASH_LAYOUT).status_code == 401
    # The old cookie, replayed after logout, no longer works.
    assert _replay(app, client, stolen).get(DASH_LAYOUT).status_code == 401
    assert audit_events("logout", actor=email)


def test_idle_session_expires(app) -> None:
    client, user_id, email = _signed_in(app)
    # 29 minutes idle is within the default 30.
    _age_sessions(user_id, last_seen_at=datetime.now(UTC) - timedelta(minutes=29))
    assert client.get(DASH_LAYOUT).status_code == 200
    _age_sessions(user_id, last_seen_at=datetime.now(UTC) - timedelta(minutes=31))
    assert client.get(DASH_LAYOUT).status_code == 401
    expired = audit_events("session_expired", actor=email)
    assert expired and expired[0].detail == {"reason": "idle"}


def test_idle_timeout_follows_the_setting(app) -> None:
    client, user_id, _ = _signed_in(app)
    _age_sessions(user_id, last_seen_at=datetime.now(UTC) - timedelta(minutes=3))
    with settings_changed(app, session_idle_minutes=2):
        response = client.get("/executive")
    assert response.status_code == 302
    assert "expired=1" in response.headers["Location"]
    assert "session ended" in client.get(response.headers["Location"]).get_data(as_text=True)


def test_absolute_lifetime_ends_even_an_active_session(app) -> None:
    client, user_id, email = _signed_in(app)
    now = datetime.now(UTC)
    _age_sessions(user_id, created_at=now - timedelta(hours=11, minutes=59), last_seen_at=now)
    assert client.get(DASH_LAYOUT).status_code == 200
    _age_sessions(user_id, created_at=now - timedelta(hours=12, minutes=1), last_seen_at=now)
    assert client.get(DASH_LAYOUT).status_code == 401
    assert audit_events("session_expired", actor=email)[0].detail == {"reason": "lifetime"}


def test_deactivated_user_is_signed_out_at_next_request_and_stays_out(app) -> None:
    client, user_id, email = _signed_in(app)
    cookie = _session_cookie(client)
    with db.begin() as session:
        set_user_active(session, user_id, False, actor="admin@test.client360.dev")
    assert client.get(DASH_LAYOUT).status_code == 401
    assert sign_in(client_from(app, random_ip()), email).status_code == 401
    with db.begin() as session:
        set_user_active(session, user_id, True, actor="admin@test.client360.dev")
    # Reactivation does not bring the old session back.
    assert _replay(app, client, cookie).get(DASH_LAYOUT).status_code == 401
    assert audit_events("user_deactivated", target=email) and audit_events("user_reactivated", target=email)


def test_revoke_sessions_signs_the_user_out_everywhere(app) -> None:
    first, user_id, email = _signed_in(app)
    second = client_from(app, random_ip())
    assert sign_in(second, email).status_code == 302
    with db.begin() as session:
        revoke_sessions(session, user_id, actor="admin@test.client360.dev")
    assert first.get(DASH_LAYOUT).status_code == 401
    assert second.get(DASH_LAYOUT).status_code == 401
    assert audit_events("sessions_revoked", target=email)[0].detail == {"sessions_ended": 2}


def test_reset_password_forces_a_change_before_anything_else(app) -> None:
    client, user_id, email = _signed_in(app)
    with db.begin() as session:
        one_time = reset_password(session, user_id, actor="admin@test.client360.dev")
    assert client.get(DASH_LAYOUT).status_code == 401  # sessions ended
    assert sign_in(client, email, PASSWORD).status_code == 401  # old password gone
    assert sign_in(client, email, one_time).status_code == 302
    assert client.get("/executive").headers["Location"].endswith("/account/password")
    assert client.get(DASH_LAYOUT).status_code == 403
    token = csrf_token(client, "/account/password")
    weak = client.post("/account/password", data={"current_password": one_time, "new_password": "password1234",
                                                   "confirm_password": "password1234", "csrf_token": token})
    assert weak.status_code == 400 and "common passwords" in weak.get_data(as_text=True)
    new_password = "quiet-harbour-violin-27"
    changed = client.post("/account/password", data={
        "current_password": one_time, "new_password": new_password, "confirm_password": new_password,
        "csrf_token": token})
    assert changed.status_code == 302
    assert client.get(DASH_LAYOUT).status_code == 200  # this session was kept
    assert not user_row(user_id).must_change_password
    assert audit_events("password_reset", target=email) and audit_events("password_changed", target=email)


def test_password_change_needs_the_current_password(app) -> None:
    client, _, _ = _signed_in(app)
    token = csrf_token(client, "/account/password")
    response = client.post("/account/password", data={
        "current_password": "not-my-password", "new_password": "quiet-harbour-violin-27",
        "confirm_password": "quiet-harbour-violin-27", "csrf_token": token})
    assert response.status_code == 400 and "current password is not correct" in response.get_data(as_text=True)
