"""Two-step sign-in: enrol with an authenticator app, then every sign-in needs a fresh code."""

from __future__ import annotations

import re
import time

import pyotp

from tests.dashboard.security.auth_support import (
    PASSWORD,
    audit_events,
    cli,
    client_from,
    csrf_token,
    new_user,
    random_ip,
    sign_in,
    user_row,
)


def _enrol(app) -> tuple[int, str, pyotp.TOTP]:
    user_id, email = new_user("admin")
    client = client_from(app, random_ip())
    assert sign_in(client, email).status_code == 302
    page = client.get("/account/totp").get_data(as_text=True)
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', page).group(1)
    assert "otpauth://totp/" in page and "recommended for administrators" in page
    assert '<div class="mb-2" id="totp-qr"' in page and "<svg" in page  # drawn locally, no image service
    token = csrf_token(client, "/account/totp")
    wrong = client.post("/account/totp", data={"code": "000000", "csrf_token": token})
    assert wrong.status_code == 400 and user_row(user_id).totp_secret is None
    totp = pyotp.TOTP(secret)
    assert client.post("/account/totp", data={"code": totp.now(), "csrf_token": token}).status_code == 302
    assert user_row(user_id).totp_secret == secret
    assert audit_events("totp_enrolled", target=email)
    return user_id, email, totp


def _next_code(totp: pyotp.TOTP) -> str:
    """The code of the next 30-second step: accepted (one step of drift) and never used before."""
    return totp.at(time.time() + totp.interval)


def test_enrolled_user_needs_a_code_after_the_password(app) -> None:
    _, email, totp = _enrol(app)
    client = client_from(app, random_ip())
    response = sign_in(client, email)
    assert response.status_code == 302 and response.headers["Location"].endswith("/login/totp")
    assert client.get("/_dash-layout").status_code == 401  # not signed in yet
    token = csrf_token(client, "/login/totp")
    wrong = client.post("/login/totp", data={"code": "123456", "csrf_token": token})
    assert wrong.status_code == 401 and "not valid" in wrong.get_data(as_text=True)
    assert audit_events("login_failed", actor=email)[0].detail == {"reason": "wrong TOTP code"}
    code = _next_code(totp)
    assert client.post("/login/totp", data={"code": code, "csrf_token": token}).status_code == 302
    assert client.get("/_dash-layout").status_code == 200
    # The same code cannot be replayed for another sign-in.
    replay = client_from(app, random_ip())
    assert sign_in(replay, email).status_code == 302
    again = replay.post("/login/totp", data={"code": code, "csrf_token": csrf_token(replay, "/login/totp")})
    assert again.status_code == 401


def test_totp_step_cannot_be_skipped(app) -> None:
    _, email, _ = _enrol(app)
    client = client_from(app, random_ip())
    assert sign_in(client, email).status_code == 302
    assert client.get("/executive").status_code == 302
    assert client.get("/login/totp").status_code == 200
    # Without a pending password step, the code page sends you back to the start.
    fresh = client_from(app, random_ip())
    assert fresh.get("/login/totp").headers["Location"].endswith("/login")


def test_turning_totp_off_needs_password_and_code(app) -> None:
    user_id, email, totp = _enrol(app)
    client = client_from(app, random_ip())
    assert sign_in(client, email).status_code == 302
    token = csrf_token(client, "/login/totp")
    assert client.post("/login/totp", data={"code": _next_code(totp), "csrf_token": token}).status_code == 302
    form = csrf_token(client, "/account/totp")
    refused = client.post("/account/totp/disable", data={"password": "wrong", "code": totp.now(),
                                                         "csrf_token": form})
    assert refused.status_code == 400 and user_row(user_id).totp_secret is not None
    done = client.post("/account/totp/disable", data={"password": PASSWORD, "code": totp.now(),
                                                      "csrf_token": form})
    assert done.status_code == 302 and user_row(user_id).totp_secret is None
    assert sign_in(client_from(app, random_ip()), email).headers["Location"] == "/admin/jobs"


def test_lost_authenticator_is_reset_from_the_command_line(app, database_url, tmp_path, monkeypatch) -> None:
    user_id, email, _ = _enrol(app)
    c360 = cli(monkeypatch, database_url, tmp_path)
    result = c360(["users", "reset-totp", "--email", email])
    assert result.exit_code == 0, result.output
    assert user_row(user_id).totp_secret is None
    assert sign_in(client_from(app, random_ip()), email).headers["Location"] == "/admin/jobs"  # password alone again
    assert audit_events("totp_removed", target=email)[0].actor == "cli"
    again = c360(["users", "reset-totp", "--email", email])
    assert again.exit_code != 0 and "no two-step sign-in" in again.output
