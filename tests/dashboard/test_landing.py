"""Landing: each role is sent to its main page after signing in (Home when it has none), a
same-site `next` still wins, and Home stays the list of all the user's pages."""

from __future__ import annotations

import json

import pytest

from dashboard.extensions import db
from dashboard.landing import HOME_PATH, ROLE_LANDING_PATHS, landing_path
from dashboard.users import create_user, reset_password
from layouts.home import ID as HOME
from layouts.pages import PAGES
from tests.conftest import ROLES, TEST_PASSWORD, login
from tests.dashboard.security.auth_support import csrf_token
from tests.dashboard.security.dash_requests import page_layout


def test_the_map_names_real_pages_and_roles():
    assert ROLE_LANDING_PATHS == {"executive": "/executive", "admin": "/admin/jobs", "account_manager": "/my-accounts",
                                  "sales_manager": "/sales", "support_lead": "/support",
                                  "marketing_manager": "/marketing", "billing": "/billing"}
    assert set(ROLE_LANDING_PATHS.values()) <= {p.path for p in PAGES}
    assert set(ROLE_LANDING_PATHS) <= set(ROLES)
    assert landing_path("custom_role") == HOME_PATH  # a role made by an administrator


@pytest.mark.parametrize("role", ROLES)
def test_each_role_lands_where_the_map_says(app, role):
    client = app.test_client()
    response = login(client, f"{role}@test.client360.dev")
    assert response.status_code == 302
    assert response.headers["Location"] == ROLE_LANDING_PATHS.get(role, "/")
    # Already signed in, the sign-in page sends the user on to the same place.
    assert client.get("/login").headers["Location"] == ROLE_LANDING_PATHS.get(role, "/")


def _login_with_next(app, role: str, next_url: str):
    client = app.test_client()
    page = client.get("/login", query_string={"next": next_url})
    assert page.status_code == 200
    token = csrf_token(client)
    return client.post("/login", query_string={"next": next_url},
                       data={"email": f"{role}@test.client360.dev", "password": TEST_PASSWORD, "csrf_token": token})


def test_a_next_page_still_wins(app):
    assert _login_with_next(app, "executive", "/admin/audit?actor=x").headers["Location"] == "/admin/audit?actor=x"
    assert _login_with_next(app, "billing", "/account").headers["Location"] == "/account"


@pytest.mark.parametrize("next_url", ["//evil.example/steal", "https://evil.example/", "/\\evil.example", "/"])
def test_a_foreign_or_root_next_falls_back_to_the_landing_page(app, next_url):
    assert _login_with_next(app, "executive", next_url).headers["Location"] == "/executive"
    assert _login_with_next(app, "support_lead", next_url).headers["Location"] == "/support"
    assert _login_with_next(app, "marketing_manager", next_url).headers["Location"] == "/marketing"


def test_a_required_password_change_ends_on_the_landing_page(app):
    email = "landing-reset@test.client360.dev"
    with db.begin() as session:
        user_id = create_user(session, email=email, role="executive", password=TEST_PASSWORD).user.id
    with db.begin() as session:
        one_time = reset_password(session, user_id, actor="tests")
    client = app.test_client()
    assert login(client, email, one_time).status_code == 302
    new_password = "quiet-harbour-violin-27"
    changed = client.post("/account/password", data={
        "current_password": one_time, "new_password": new_password, "confirm_password": new_password,
        "csrf_token": csrf_token(client, "/account/password")})
    assert changed.status_code == 302 and changed.headers["Location"] == "/executive"
    # A change made later, by choice, stays on the account page.
    again = client.post("/account/password", data={
        "current_password": new_password, "new_password": "amber-lantern-meadow-58",
        "confirm_password": "amber-lantern-meadow-58",
        "csrf_token": csrf_token(client, "/account/password")})
    assert again.status_code == 302 and "changed=1" in again.headers["Location"]


def _home(app, client) -> str:
    """Home's layout as text, with Dash's escaped slashes read back."""
    client.get("/")  # Dash collects its callbacks on the first page request
    return json.dumps(page_layout(client, app, "/").get_json())


def test_home_stays_all_my_pages_and_says_so_when_a_role_has_none(app, login_as):
    executive = _home(app, login_as("executive"))
    assert HOME.PAGE in executive and "/executive" in executive and HOME.NO_DASHBOARDS not in executive
    # The marketing manager has Campaigns now; Home still lists it with the rest.
    marketing = _home(app, login_as("marketing_manager"))
    assert HOME.NO_DASHBOARDS not in marketing and "/marketing" in marketing and "/marketing/growth" in marketing
    assert "/account" in marketing  # their own account stays reachable


def test_home_says_so_when_a_role_has_no_dashboard(app, login_as, monkeypatch):
    # Every default role has a page now: a role left with only the pages open to everyone.
    import layouts.home
    from dashboard.permissions import AUTHENTICATED
    from layouts.pages import PAGES

    monkeypatch.setattr(layouts.home, "pages_for_current_user",
                        lambda: [p for p in PAGES if p.permission == AUTHENTICATED])
    nothing = _home(app, login_as("marketing_manager"))
    assert HOME.NO_DASHBOARDS in nothing and "No dashboards for your role yet" in nothing
