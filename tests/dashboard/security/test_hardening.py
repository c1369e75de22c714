"""Hardening: text PostgreSQL cannot store is a 400 everywhere (never a 500), crafted callback
requests are refused, /api/ answers JSON even for unknown paths and methods, public paths match on a
path boundary, signing out needs a POST with a CSRF token, and the security modules import one way."""

from __future__ import annotations

import re

import grimp
import pytest

from dashboard.api import ENDPOINT_PERMISSIONS
from dashboard.extensions import db
from dashboard.tokens import create_token
from tests.conftest import login
from tests.dashboard.security.auth_support import csrf_token, new_user, sign_in, sign_out
from tests.dashboard.security.dash_requests import (
    DASH_ROUTE,
    callback_keys,
    dash_app,
    key_for_output,
    payload,
)

NUL = "\x00"
LONE_SURROGATE = "\ud800"  # valid in JSON ("\ud800"), has no UTF-8 form
UNSTORABLE = (NUL, f"Acme{NUL}Corp", LONE_SURROGATE)
# Every query parameter an API endpoint reads; each route is hit with each of them.
API_PARAMETERS = ("search", "region", "territory", "page", "per_page", "start", "end", "regions")
DASH_LAYOUT = "/_dash-layout"
NOT_FOUND_BODY = {"error": {"status": 404, "code": "not_found", "message": "not found"}}


@pytest.fixture(scope="module")
def admin(app):
    """A signed-in administrator: every callback and endpoint runs for them, so a refusal is the guard's."""
    client = app.test_client()
    assert login(client, "admin@test.client360.dev").status_code == 302
    client.get("/")  # Dash collects its callbacks on the first page request
    return client


@pytest.fixture(scope="module")
def admin_token(app) -> str:
    user_id, _ = new_user("admin", prefix="hardening")
    with db.begin() as session:
        _, raw = create_token(session, user_id, name="hardening", actor="test")
    return raw


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _refused_as_unstorable(response) -> bool:
    body = response.get_json(silent=True) or {}
    error = body.get("error")
    # The data API's error shape under /api/; Dash's internal routes answer a plain message.
    message = error.get("message", "") if isinstance(error, dict) else str(error or "")
    return response.status_code == 400 and "cannot be stored" in message


# --- 1. Unstorable text ------------------------------------------------------------------------


def test_every_callback_input_and_state_refuses_unstorable_text(app, admin) -> None:
    keys = callback_keys(app)
    assert len(keys) >= 10, "the app registered no callbacks"
    spec_of = dash_app(app).callback_map
    dependencies = [(key, f"{dep['id']}.{dep['property']}") for key in keys
                    for dep in spec_of[key].get("inputs", []) + spec_of[key].get("state", [])]
    assert len(dependencies) >= len(keys)
    failures = []
    for key, dependency in dependencies:
        for value in (*UNSTORABLE, ["ok", NUL], {"nested": [NUL]}, {NUL: "key"}):
            response = admin.post(DASH_ROUTE, json=payload(app, key, {dependency: value}, changed=dependency))
            if not _refused_as_unstorable(response):
                failures.append((key, dependency, repr(value), response.status_code))
    assert failures == []


def test_the_same_callback_without_the_nul_runs(app, admin) -> None:
    """The refusal above is the NUL's doing: the user search answers a plain value."""
    key = _admin_only_key(app)
    response = admin.post(DASH_ROUTE, json=payload(app, key, {"au-search.value": "acme"}, changed="au-search.value"))
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    response = admin.post(DASH_ROUTE, json=payload(app, key, {"au-search.value": f"ac{NUL}me"},
                                                   changed="au-search.value"))
    assert _refused_as_unstorable(response)


def _api_routes() -> list[str]:
    routes = [rule for method, rule in ENDPOINT_PERMISSIONS if method == "GET"]
    assert len(routes) >= 5, "no API routes registered"
    return routes


def _with_path_value(rule: str, value: str) -> str:
    return re.sub(r"<(?:[^:>]+:)?[^>]+>", value, rule)


def test_every_api_route_refuses_a_nul_in_each_query_parameter(admin) -> None:
    failures = []
    for rule in _api_routes():
        path = _with_path_value(rule, "ACC-1")
        for name in (*API_PARAMETERS, f"sea{NUL}rch"):
            response = admin.get(path, query_string={name: f"x{NUL}y"})
            if not _refused_as_unstorable(response):
                failures.append((path, repr(name), response.status_code))
    assert failures == []


def test_api_path_segments_refuse_a_nul(admin) -> None:
    with_segments = [rule for rule in _api_routes() if "<" in rule]
    assert with_segments, "no API route takes a path segment"
    for rule in with_segments:
        response = admin.get(_with_path_value(rule, "ACC%00-1"))
        assert _refused_as_unstorable(response), (rule, response.status_code)


def test_api_surrogates_in_the_url_never_answer_500(admin) -> None:
    """A URL cannot carry an unpaired surrogate (its UTF-8 bytes are invalid and decode to U+FFFD),
    but the answer must still be an ordinary one."""
    for rule in _api_routes():
        response = admin.get(_with_path_value(rule, "ACC%ED%A0%80") + "?search=%ED%A0%80&region=%ff")
        assert response.status_code < 500, (rule, response.status_code)
        assert response.mimetype in ("application/json", "text/csv", "text/html"), rule
        assert response.mimetype != "text/html" or rule.endswith("/docs"), rule  # the API's docs page


@pytest.mark.parametrize("value", UNSTORABLE)
def test_api_json_bodies_refuse_unstorable_text(app, admin_token, value) -> None:
    client = app.test_client()
    for body in ({"search": value}, [value], {value: 1}, {"filters": {"regions": ["EMEA", value]}}):
        for path in ("/api/v1/accounts", "/api/v1/no-such-endpoint"):
            response = client.post(path, json=body, headers=_bearer(admin_token))
            assert _refused_as_unstorable(response), (path, body, response.status_code)


def test_forms_refuse_a_nul_with_400(app) -> None:
    _, email = new_user()
    client = app.test_client()
    response = client.post("/login", data={"email": email + NUL, "password": "x",
                                           "csrf_token": csrf_token(client)})
    assert response.status_code == 400 and "cannot be stored" in response.get_data(as_text=True)
    assert sign_in(client, email).status_code == 302
    token_form = {"name": f"script{NUL}", "csrf_token": csrf_token(client, "/account/tokens")}
    response = client.post("/account/tokens", data=token_form)
    assert response.status_code == 400 and "cannot be stored" in response.get_data(as_text=True)


# --- 2. Crafted callback requests ----------------------------------------------------------------


def _admin_only_key(app) -> str:
    """The administrators' user list (manage_users): search box in, table and user picker out."""
    return key_for_output(app, "au-table.children")


def test_output_and_outputs_that_disagree_are_refused(app, admin, login_as) -> None:
    admin_key = _admin_only_key(app)
    router_key = key_for_output(app, "_pages_content.children")
    # Dash runs the callback `output` names; `outputs` names one anyone may trigger.
    crafted = {**payload(app, admin_key), "outputs": payload(app, router_key)["outputs"]}
    for client in (login_as("marketing_manager"), admin):
        response = client.post(DASH_ROUTE, json=crafted)
        assert response.status_code == 400, response.status_code
        assert "disagree" in response.get_json()["error"]
    # The other way round: a permitted `output` with another callback's `outputs`.
    crafted = {**payload(app, router_key), "outputs": payload(app, admin_key)["outputs"]}
    assert admin.post(DASH_ROUTE, json=crafted).status_code == 400


def test_a_callback_nobody_registered_is_refused(app, admin) -> None:
    unknown = {"output": "no-such-component.children", "outputs": {"id": "no-such-component", "property": "children"},
               "inputs": [], "state": [], "changedPropIds": []}
    assert admin.post(DASH_ROUTE, json=unknown).status_code == 403
    # Two outputs that exist, but in different callbacks: no callback has both.
    first, second = (key_for_output(app, "_pages_content.children"), _admin_only_key(app))
    outputs = [*_as_list(payload(app, first)["outputs"]), *_as_list(payload(app, second)["outputs"])]
    output = "..{}..".format("...".join(f"{o['id']}.{o['property']}" for o in outputs))
    response = admin.post(DASH_ROUTE, json={"output": output, "outputs": outputs, "inputs": [], "state": [],
                                            "changedPropIds": []})
    assert response.status_code in (400, 403), response.status_code


def _as_list(outputs):
    return outputs if isinstance(outputs, list) else [outputs]


def test_inputs_that_do_not_fit_the_callback_are_refused(app, admin) -> None:
    key = _admin_only_key(app)
    body = payload(app, key)
    assert body["inputs"], key
    for inputs in ([], body["inputs"] + body["inputs"]):
        assert admin.post(DASH_ROUTE, json={**body, "inputs": inputs}).status_code == 400


@pytest.mark.parametrize("mangle", [
    lambda body: [body],
    lambda body: {**body, "output": 7},
    lambda body: {**body, "output": None},
    lambda body: {k: v for k, v in body.items() if k != "output"},
    lambda body: {k: v for k, v in body.items() if k != "outputs"},
    lambda body: {**body, "outputs": "x.children"},
    lambda body: {**body, "outputs": []},
    lambda body: {**body, "inputs": "x"},
    lambda body: {**body, "inputs": [1, 2]},
    lambda body: {k: v for k, v in body.items() if k != "inputs"},
    lambda body: {**body, "inputs": [{"id": "x"}]},
    lambda body: {**body, "state": {"id": "x", "property": "value"}},
    lambda body: {**body, "changedPropIds": "x.value"},
    lambda body: {**body, "changedPropIds": [None]},
    lambda body: {**body, "output": "{not-json.children"},
    lambda body: {**body, "outputs": {"id": ["a"], "property": "children"}},
    lambda body: {**body, "outputs": [[[body["outputs"]]]]},
    lambda body: {**body, "output": "{" + '"a":[' * 5000 + "]" * 5000 + "}.children"},
], ids=lambda _: "")
def test_malformed_callback_bodies_are_refused(app, admin, mangle) -> None:
    body = mangle(payload(app, _admin_only_key(app)))
    response = admin.post(DASH_ROUTE, json=body)
    assert response.status_code in (400, 403), response.get_data(as_text=True)[:300]


@pytest.mark.parametrize("raw", ["{not json", "", "null", "[]", "\"text\"", "[" * 100_000 + "]" * 100_000])
def test_callback_bodies_that_are_not_json_objects_are_refused(admin, raw) -> None:
    response = admin.post(DASH_ROUTE, data=raw, content_type="application/json")
    assert response.status_code == 400


# --- 3. JSON under /api/ -------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/v1/no-such-endpoint", "/api/nothing", "/api/v1/accounts/ACC-1/extra",
                                  "/api/v2/accounts"])
def test_unknown_api_paths_are_json_404s(admin, path) -> None:
    response = admin.get(path)
    assert response.status_code == 404 and response.mimetype == "application/json"
    assert response.get_json() == NOT_FOUND_BODY


def test_a_wrong_method_under_api_is_a_json_405(app, admin_token) -> None:
    client = app.test_client()
    for method in ("post", "put", "delete", "patch"):
        response = getattr(client, method)("/api/v1/accounts", headers=_bearer(admin_token))
        assert response.status_code == 405 and response.mimetype == "application/json", method
        assert "error" in response.get_json() and "GET" in response.headers["Allow"]
    response = client.post("/api/v1/no-such-endpoint", headers=_bearer(admin_token))
    assert response.status_code == 404 and response.get_json() == NOT_FOUND_BODY


def test_api_errors_from_the_csrf_gate_are_json_too(admin) -> None:
    response = admin.post("/api/v1/accounts")  # a session cookie and no CSRF token
    assert response.status_code == 400 and response.mimetype == "application/json"
    assert "error" in response.get_json()


def test_pages_outside_api_keep_their_html_answers(admin) -> None:
    assert admin.get("/no-such-page").mimetype == "text/html"


# --- 4. Public paths -----------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/loginx", "/login-admin", "/healthzx", "/healthz.json", "/assetsx/client360.css",
                                  "/_favicon.icox", "/favicon.icox", "/logoutx"])
def test_lookalikes_of_public_paths_need_a_sign_in(client, path) -> None:
    response = client.get(path)
    assert response.status_code == 302, path
    assert "/login?next=" in response.headers["Location"], response.headers["Location"]


def test_public_paths_stay_public(client) -> None:
    assert client.get("/login").status_code == 200
    assert client.get("/healthz").get_json() == {"status": "ok"}
    assert client.get("/assets/client360.css").status_code == 200
    # The icon browsers ask for by themselves goes to Dash's, without starting a session: a session begun
    # there could replace the sign-in form's and make a quick sign-in fail as an expired form.
    icon = client.application.test_client().get("/favicon.ico")  # a browser's first request, without a cookie
    assert icon.status_code == 301 and icon.headers["Location"] == "/_favicon.ico"
    assert "Set-Cookie" not in icon.headers
    before = client.application.test_client()
    assert before.get("/_favicon.ico").status_code == 200  # where it leads is public too
    # /login/totp with nothing pending sends the visitor to the form itself, not through the gate.
    totp = client.get("/login/totp")
    assert totp.status_code == 302 and "next=" not in totp.headers["Location"]


# --- 5. Signing out ------------------------------------------------------------------------------


def _signed_in(app):
    _, email = new_user(prefix="signout")
    client = app.test_client()
    assert sign_in(client, email).status_code == 302
    return client


def test_get_logout_asks_to_confirm_and_keeps_the_session(app) -> None:
    client = _signed_in(app)
    page = client.get("/logout")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert re.search(r'<form method="post" action="/logout"', html) and 'name="csrf_token"' in html
    assert 'id="logout-submit"' in html and "Sign out" in html
    assert client.get(DASH_LAYOUT).status_code == 200


@pytest.mark.parametrize("data", [{}, {"csrf_token": "forged"}])
def test_logout_post_without_a_valid_token_is_refused(app, data) -> None:
    client = _signed_in(app)
    response = client.post("/logout", data=data)
    assert response.status_code == 400
    assert client.get(DASH_LAYOUT).status_code == 200


def test_logout_post_with_the_token_signs_out(app) -> None:
    client = _signed_in(app)
    response = sign_out(client)
    assert response.status_code == 302 and "signed_out" in response.headers["Location"]
    assert client.get(DASH_LAYOUT).status_code == 401
    # Signed out already: the sign-out page sends the visitor to the login form.
    again = client.get("/logout")
    assert again.status_code == 302 and "/login" in again.headers["Location"]


# --- 6. Import direction -------------------------------------------------------------------------


@pytest.mark.parametrize("upper, lower", [("dashboard.auth", "dashboard.account"),
                                          ("dashboard.permissions", "dashboard.audit"),
                                          ("dashboard.callback_guard", "dashboard.security"),
                                          ("dashboard.auth", "dashboard.credentials")])
def test_security_modules_import_one_way(upper, lower) -> None:
    graph = grimp.build_graph("dashboard", "callbacks", "layouts", "models", "etl")
    assert graph.find_shortest_chain(importer=lower, imported=upper) is None
