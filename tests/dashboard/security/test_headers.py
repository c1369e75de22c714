"""Security headers, cookie flags and CSRF: forms need a token, Dash callbacks refuse other sites."""

from __future__ import annotations

import json

import pytest

from dashboard.security import cookie_config
from dashboard.settings import Settings
from tests.dashboard.security.auth_support import PASSWORD, client_from, new_user, random_ip, sign_in


@pytest.mark.parametrize("path", ["/login", "/_dash-layout", "/api/v1/me", "/executive"])
def test_security_headers_on_every_kind_of_response(login_as, path: str) -> None:
    response = login_as("executive").get(path)
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "default-src 'self'" in csp and "object-src 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_csp_lets_dash_run_from_our_own_origin_only(client) -> None:
    csp = client.get("/login").headers["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";") if d.strip())
    assert directives["script-src"].startswith("'self'")
    assert "http" not in csp  # no third-party origin anywhere
    assert directives["connect-src"] == "'self'"


def test_session_cookie_flags(app) -> None:
    _, email = new_user()
    response = sign_in(client_from(app, random_ip()), email)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # development serves plain http


def test_production_cookies_are_secure_and_host_only(tmp_path) -> None:
    production = Settings(env="production", secret_key="x" * 40, data_dir=tmp_path)
    config = cookie_config(production)
    assert config["SESSION_COOKIE_SECURE"] is True and config["REMEMBER_COOKIE_SECURE"] is True
    assert config["SESSION_COOKIE_NAME"].startswith("__Host-") and config["SESSION_COOKIE_DOMAIN"] is None
    assert cookie_config(Settings(data_dir=tmp_path))["SESSION_COOKIE_SECURE"] is False


def test_login_without_csrf_token_is_refused(app) -> None:
    _, email = new_user()
    client = client_from(app, random_ip())
    response = client.post("/login", data={"email": email, "password": PASSWORD})
    assert response.status_code == 401 and "form expired" in response.get_data(as_text=True)
    assert client.get("/_dash-layout").status_code == 401
    forged = client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": "forged"})
    assert forged.status_code == 401


def test_account_forms_refuse_a_missing_csrf_token(login_as) -> None:
    client = login_as("executive")
    response = client.post("/account/tokens", data={"name": "no token"})
    assert response.status_code == 400 and "form expired" in response.get_data(as_text=True)
    # A form without its own FlaskForm is covered by the global CSRF gate.
    assert client.post("/account/tokens/1/revoke").status_code == 400


def _callback_body() -> str:
    return json.dumps({"output": "not-a-real-output.children",
                       "outputs": {"id": "not-a-real-output", "property": "children"},
                       "inputs": [], "changedPropIds": []})


def test_dash_callbacks_from_another_site_are_refused(login_as) -> None:
    client = login_as("admin")
    for headers in ({"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "cross-site"}):
        response = client.post("/_dash-update-component", data=_callback_body(),
                               content_type="application/json", headers=headers)
        assert response.status_code == 403
        assert response.get_json() == {"error": "cross-site request refused"}


def test_dash_callbacks_from_our_own_page_pass_the_csrf_gate(login_as) -> None:
    client = login_as("admin")
    response = client.post("/_dash-update-component", data=_callback_body(), content_type="application/json",
                           headers={"Origin": "http://localhost", "Sec-Fetch-Site": "same-origin"})
    # Past the CSRF gate, the callback guard answers: this output is undeclared.
    assert response.status_code == 403 and response.get_json() == {"error": "forbidden"}


def test_dash_callbacks_must_be_json(login_as) -> None:
    client = login_as("admin")
    response = client.post("/_dash-update-component", data={"output": "x.children"})
    assert response.status_code == 400
