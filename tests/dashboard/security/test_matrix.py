"""The permission matrix, generated from the app itself: every registered page, Dash callback
and API endpoint, for every role, answers or is refused exactly as the role's stored
permissions say. A callback or endpoint that declares no permission fails the suite."""

from __future__ import annotations

import re

import dash
import pytest
from dash import Input, Output

from dashboard.api import ENDPOINT_PERMISSIONS
from dashboard.callback_guard import (
    OUTPUT_PERMISSIONS,
    callback_map_outputs,
    callback_permissions,
    undeclared_callbacks,
)
from dashboard.extensions import db
from dashboard.permissions import AUTHENTICATED
from dashboard.tables.app import Role
from layouts.pages import HOME, NOT_FOUND, PAGES
from tests.conftest import ROLES
from tests.dashboard.api.api_support import example_body, session_csrf_token
from tests.dashboard.security.dash_requests import DASH_ROUTE, callback_keys, dash_app, page_layout, payload

ALL_PAGES = (HOME, NOT_FOUND, *PAGES)
# Values that let a callback run its normal path when the matrix posts it.
INPUT_VALUES = {"_pages_location.pathname": "/", "_pages_location.search": ""}
ANSWERED = (200, 202, 204)


@pytest.fixture(scope="module")
def role_permissions(app) -> dict[str, frozenset[str]]:
    """The permissions of each role as stored in app.role: the table the matrix must follow."""
    with db.session() as session:
        return {role.name: frozenset(role.permissions) for role in session.query(Role)}


@pytest.fixture(scope="module")
def clients(app, role_permissions):
    """One signed-in client per role, reused across the module's matrix cells."""
    from tests.conftest import login

    made = {}
    for role in ROLES:
        client = app.test_client()
        response = login(client, f"{role}@test.client360.dev")
        assert response.status_code == 302, response.get_data(as_text=True)[:300]
        client.get("/")  # Dash collects its callbacks on the first page request
        made[role] = client
    return made


def allowed(role_permissions: dict[str, frozenset[str]], role: str, permission: str) -> bool:
    return permission == AUTHENTICATED or permission in role_permissions[role]


def _callback_cases(app) -> list[str]:
    app.test_client().get("/login")
    return callback_keys(app)


# --- Registry completeness ---------------------------------------------------------------


def test_every_registered_callback_declares_a_permission(clients, app):
    dash_application = dash_app(app)
    assert callback_permissions(dash_application), "the app registered no callbacks"
    assert undeclared_callbacks(dash_application) == []
    # Both ways: every guarded output belongs to a callback the app really registered.
    registered = {out for key in dash_application.callback_map for out in callback_map_outputs(key)}
    assert set(OUTPUT_PERMISSIONS) - registered == set()


def test_a_callback_without_a_declared_permission_is_detected():
    """A callback registered around the guard shows up in `undeclared_callbacks`."""
    throwaway = dash.Dash(__name__, server=False)
    throwaway.layout = dash.html.Div()

    @throwaway.callback(Output("matrix-unguarded", "children"), Input("matrix-button", "n_clicks"))
    def unguarded(_clicks):  # pragma: no cover - never called
        return "leak"

    assert undeclared_callbacks(throwaway) == ["matrix-unguarded.children"]


def test_an_undeclared_output_is_refused_even_for_an_admin(clients):
    body = {"output": "matrix-unguarded.children", "outputs": {"id": "matrix-unguarded", "property": "children"},
            "inputs": [{"id": "matrix-button", "property": "n_clicks", "value": 1}],
            "changedPropIds": ["matrix-button.n_clicks"], "state": []}
    assert clients["admin"].post(DASH_ROUTE, json=body).status_code == 403


def test_every_api_route_declares_a_permission(app):
    api_rules = {(method, rule.rule) for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/")
                 for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert api_rules, "no API routes registered"
    assert api_rules - set(ENDPOINT_PERMISSIONS) == set()


# --- The matrix --------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_callback_matrix(app, clients, role_permissions, role):
    keys = _callback_cases(app)
    permissions = callback_permissions(dash_app(app))
    checked = 0
    for key in keys:
        needed = permissions[key]
        may = all(allowed(role_permissions, role, p) for p in needed)
        response = clients[role].post(DASH_ROUTE, json=payload(app, key, INPUT_VALUES))
        if may:
            assert response.status_code in ANSWERED, (role, key, response.get_data(as_text=True)[:300])
        else:
            assert response.status_code == 403, (role, key, response.status_code)
            assert response.get_json() == {"error": "forbidden"}
        checked += 1
    assert checked == len(keys) >= 10


@pytest.mark.parametrize("role", ROLES)
def test_page_matrix(app, clients, role_permissions, role):
    for spec in ALL_PAGES:
        response = page_layout(clients[role], app, spec.path)
        assert response.status_code == 200, (role, spec.path)
        forbidden = "forbidden-page" in response.get_data(as_text=True)
        assert forbidden is not allowed(role_permissions, role, spec.permission), (role, spec.path)
        # The navbar links exactly the pages the role may open.
        if spec.in_navbar:
            shell_ids = _component_ids(clients[role].get("/_dash-layout").get_json())
            assert (f"nav-{spec.path.strip('/')}" in shell_ids) is allowed(role_permissions, role, spec.permission), (role, spec.path)


def _component_ids(tree) -> set[str]:
    """Every string component id in a serialised Dash layout."""
    found, stack = set(), [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if isinstance(node.get("props", {}).get("id"), str):
                found.add(node["props"]["id"])
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return found


def _api_url(rule: str, account_id: str) -> str:
    return re.sub(r"<[^>]+>", account_id, rule)


@pytest.mark.parametrize("role", ROLES)
def test_api_matrix(app, clients, role_permissions, role, any_account_id):
    # A browser session's changes carry the CSRF token (the API docs page hands it out), so the
    # answer is the permission guard's, not the CSRF gate's.
    csrf = {"X-CSRFToken": session_csrf_token(clients[role])}
    for (method, rule), permissions in sorted(ENDPOINT_PERMISSIONS.items()):
        response = clients[role].open(_api_url(rule, any_account_id), method=method,
                                      headers=csrf if method != "GET" else {}, json=example_body(method, rule))
        if all(allowed(role_permissions, role, p) for p in permissions):
            # An unassigned sales or account manager sees no account at all: 404, not 403.
            assert response.status_code in (200, 404), (role, rule, response.get_data(as_text=True)[:300])
        else:
            assert response.status_code == 403, (role, rule, response.status_code)


def test_anonymous_requests_are_refused_everywhere(app):
    client = app.test_client()
    for (method, rule) in ENDPOINT_PERMISSIONS:
        assert client.open(_api_url(rule, "x"), method=method).status_code == 401, rule
    for key in _callback_cases(app):
        assert client.post(DASH_ROUTE, json=payload(app, key, INPUT_VALUES)).status_code == 401, key


@pytest.fixture(scope="module")
def any_account_id(app) -> str:
    from sqlalchemy import select

    from dashboard.tables.gold import Customer360

    with db.session() as session:
        account_id = session.scalar(select(Customer360.account_id).order_by(Customer360.account_id).limit(1))
    assert account_id
    return account_id


def test_matrix_size(app, clients):
    """The matrix covers every page, callback and endpoint for each of the seven roles."""
    cells = (len(ALL_PAGES) + len(_callback_cases(app)) + len(ENDPOINT_PERMISSIONS)) * len(ROLES)
    assert len(ROLES) == 7 and cells >= 7 * 20


def test_data_quality_page_and_its_callbacks_are_for_admins_only(app, clients):
    """The Data quality page and every one of its panels answer only the admin role: the matrix
    above follows app.role, this pins that nobody else holds the permission by default."""
    from layouts.admin_quality import ID as QUALITY

    spec = next(p for p in PAGES if p.path == "/admin/quality")
    keys = [k for k in _callback_cases(app) if any(out.startswith("aq-") for out in callback_map_outputs(k))]
    outputs = {out for k in keys for out in callback_map_outputs(k)}
    assert outputs == {f"{component}.children" for component in (
        QUALITY.CHECKS, QUALITY.COMPLETENESS, QUALITY.QUARANTINE, QUALITY.IDENTITY, QUALITY.MODELS,
        QUALITY.GOLD_STATUS)}
    assert {OUTPUT_PERMISSIONS[out] for out in outputs} == {spec.permission}
    for role in ROLES:
        page = page_layout(clients[role], app, spec.path).get_data(as_text=True)
        assert ("forbidden-page" in page) is (role != "admin"), role
        for key in keys:
            response = clients[role].post(DASH_ROUTE, json=payload(app, key, INPUT_VALUES))
            assert response.status_code == (200 if role == "admin" else 403), (role, key)
