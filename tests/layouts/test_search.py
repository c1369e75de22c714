"""The navbar's account search: suggestions for roles that may open accounts, Enter opens the
results grid, the server checks the permission, PII search only with view_pii, hostile input
answered calmly; and in a real browser at desktop and phone widths."""

from __future__ import annotations

import collections
import json
import re
from urllib.parse import parse_qs, urlparse

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as ec
from sqlalchemy import select

from dashboard.extensions import db
from dashboard.tables.gold import Customer360
from dashboard.tables.silver import Contact
from layouts.search import ID, results_href
from tests.dashboard.security.dash_requests import post_callback, response_outputs
from tests.layouts.test_morning_coffee import NAVBAR_BREAKPOINT, sized  # noqa: F401  (1440x900 and 390x844)
from tests.layouts.test_pages import sign_in, wait

SUGGESTIONS = f"{ID.SUGGESTIONS}.children"


@pytest.fixture(scope="module")
def fragment(app) -> str:
    """A 4-letter piece of a name more than ten customers share."""
    with db.session() as session:
        names = session.scalars(select(Customer360.account_name)).all()
    words = collections.Counter(w[:4] for name in names for w in re.findall(r"[a-z]{4,}", name.lower()))
    piece, count = words.most_common(1)[0]
    assert count > 10
    return piece


@pytest.fixture(scope="module")
def contact_email(app) -> str:
    with db.session() as session:
        return session.scalars(select(Contact.email).where(Contact.email.is_not(None)).order_by(Contact.contact_id)
                               .limit(1)).one()


def suggest(client, app, typed) -> tuple[int, str]:
    response = post_callback(client, app, SUGGESTIONS, {f"{ID.INPUT}.value": typed}, changed=f"{ID.INPUT}.value")
    body = json.dumps(response_outputs(response)) if response.status_code == 200 else ""
    return response.status_code, body


def test_the_box_is_in_the_navbar_only_for_roles_that_open_accounts(login_as):
    assert ID.INPUT in login_as("executive").get("/_dash-layout").get_data(as_text=True)
    assert ID.INPUT not in login_as("marketing_manager").get("/_dash-layout").get_data(as_text=True)


def test_suggestions_list_up_to_ten_accounts_as_links(app, login_as, fragment):
    status, body = suggest(login_as("executive"), app, fragment.upper())
    assert status == 200
    links = re.findall(r'"href": "/accounts/([^"]+)"', body)
    assert 0 < len(links) <= 10 and len(set(links)) == len(links)
    assert "See all" in body


def test_the_server_refuses_search_to_roles_without_customer_views(app, login_as, fragment):
    status, _ = suggest(login_as("marketing_manager"), app, fragment)
    assert status == 403


def test_an_email_finds_an_account_only_with_view_pii(app, login_as, contact_email):
    status, with_pii = suggest(login_as("support_lead"), app, contact_email)
    assert status == 200 and "/accounts/" in with_pii and contact_email in with_pii
    status, without = suggest(login_as("executive"), app, contact_email)
    assert status == 200 and "/accounts/" not in without
    assert f"No account matches '{contact_email}' in your scope" in without


def test_nothing_typed_suggests_nothing_and_an_empty_scope_says_so(app, login_as, fragment):
    assert suggest(login_as("executive"), app, "")[1] == json.dumps({SUGGESTIONS: None})
    # The test account manager is linked to no CRM user and assigned nothing.
    status, body = suggest(login_as("account_manager"), app, fragment)
    assert status == 200 and "Nothing in your data scope" in body


@pytest.mark.parametrize("hostile", ["\x00", "a" * 5000, "%", "_", "%_%", "\\", ".*[(", "'; DROP TABLE x; --",
                                     "\ud800", ["list"], {"a": 1}, 12345])
def test_hostile_input_never_fails_the_server(app, login_as, hostile):
    status, body = suggest(login_as("support_lead"), app, hostile)
    assert status < 500
    assert "Traceback" not in body and "c360-error-state" not in body


def test_enter_opens_the_results_page_of_what_was_typed(app, login_as):
    client = login_as("executive")
    response = post_callback(client, app, f"{ID.LOCATION}.href",
                             {f"{ID.INPUT}.n_submit": 1, f"{ID.INPUT}.value": "  Acme 100% "})
    assert response_outputs(response) == {f"{ID.LOCATION}.href": "/search?q=acme+100%25"}
    nothing = post_callback(client, app, f"{ID.LOCATION}.href", {f"{ID.INPUT}.n_submit": 1, f"{ID.INPUT}.value": " "})
    assert nothing.status_code == 204


def test_the_results_grid_and_its_export_hold_the_same_accounts(app, login_as, fragment):
    client = login_as("executive")
    response = post_callback(client, app, f"{ID.RESULTS}.children", {f"{ID.STATE}.data": {"q": fragment}})
    body = json.dumps(response_outputs(response))
    grid_ids = set(re.findall(r'"account_id": "([^"]+)"', body))
    assert grid_ids
    export = client.get(f"/export/{ID.RESULTS}.csv?q={fragment}")
    assert export.status_code == 200
    lines = export.get_data(as_text=True).strip().splitlines()
    assert lines[0].startswith("Account,Account id")
    exported = {line.split(",")[1] for line in lines[1:]}
    assert grid_ids <= exported and len(lines) - 1 == len(exported)


# --- In the browser -----------------------------------------------------------------------


def search_box(browser):
    """The navbar's search input, unfolding the navbar first on a phone."""
    if browser.execute_script("return window.innerWidth") < NAVBAR_BREAKPOINT:
        box = browser.find_element(By.ID, ID.INPUT)
        if not box.is_displayed():
            browser.find_element(By.ID, "navbar-toggler").click()
    return wait(browser).until(ec.visibility_of_element_located((By.ID, ID.INPUT)))


@pytest.mark.browser
def test_typing_suggests_accounts_a_click_opens_one_and_enter_lists_them_all(sized, live_server, fragment):  # noqa: F811
    sign_in(sized, live_server, "executive")
    search_box(sized).send_keys(fragment)
    first = wait(sized).until(ec.visibility_of_element_located((By.CSS_SELECTOR, f".{ID.SUGGESTION}")))
    assert len(sized.find_elements(By.CSS_SELECTOR, f".{ID.SUGGESTION}")) <= 10
    overflow = sized.execute_script("return [document.documentElement.scrollWidth, window.innerWidth]")
    assert overflow[0] <= overflow[1], overflow
    target = first.get_attribute("href")
    assert urlparse(target).path.startswith("/accounts/")
    first.click()
    wait(sized).until(lambda b: urlparse(b.current_url).path == urlparse(target).path)

    box = search_box(sized)
    box.clear()
    box.send_keys(fragment, Keys.ENTER)
    wait(sized).until(lambda b: urlparse(b.current_url).path == "/search")
    assert parse_qs(urlparse(sized.current_url).query) == {"q": [fragment]}
    wait(sized).until(ec.presence_of_element_located((By.CSS_SELECTOR, f"#{ID.GRID} .ag-row")))
    assert sized.find_elements(By.CSS_SELECTOR, f"#{ID.GRID} .ag-pinned-left-cols-container .ag-row")
    assert sized.find_element(By.ID, f"{ID.RESULTS}-export-csv").get_attribute("href").endswith(
        results_href(fragment).replace("/search", f"/export/{ID.RESULTS}.csv"))
    assert not sized.find_elements(By.CSS_SELECTOR, ".c360-error-state")
