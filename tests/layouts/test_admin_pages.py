"""In a real browser, on a desktop and on a phone: each administration page and My account open
with their content drawn, no error card or traceback, and no sideways scrolling on a phone."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec

from layouts.admin_jobs import ID as JOBS
from layouts.admin_roles import ID as ROLES
from layouts.admin_users import ID as USERS
from layouts.audit import ID as AUDIT
from tests.layouts.test_pages import sign_in, wait

pytestmark = pytest.mark.browser

SIZES = {"desktop": (1440, 900), "phone": (390, 844)}
# Each page: its path, the element holding the page, and an element a callback fills with content.
PAGES = {
    "audit": ("/admin/audit", "audit-page", AUDIT.RESULTS),
    "users": ("/admin/users", USERS.PAGE, USERS.TABLE),
    "roles": ("/admin/roles", ROLES.PAGE, ROLES.SUMMARY),
    "jobs": ("/admin/jobs", JOBS.PAGE, JOBS.RUNS),
    "account": ("/account", "account-page", "account-scope"),
}
# What each filled element must show, read from what the test database certainly holds.
EXPECTED_TEXT = {
    "audit": "login",  # the admin's own sign-in is an audit event
    "users": "admin@test.client360.dev",
    "roles": "executive",
    "jobs": "",
    "account": "",
}


@pytest.fixture()
def sized(browser):
    """The browser, its window size restored after the test."""
    size = browser.get_window_size()
    yield browser
    browser.set_window_size(size["width"], size["height"])


def _text(browser, element_id: str) -> str:
    return browser.execute_script("const e = document.getElementById(arguments[0]); return e ? e.innerText : '';",
                                  element_id) or ""


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("page", PAGES)
def test_admin_page_draws_its_content_without_errors(sized, live_server, page, size):
    path, page_id, content_id = PAGES[page]
    sized.set_window_size(*SIZES[size])
    sign_in(sized, live_server, "admin")
    sized.get(live_server + path)
    wait(sized).until(ec.presence_of_element_located((By.ID, page_id)))
    wait(sized).until(lambda b: _text(b, content_id).strip() != "")
    content = _text(sized, content_id)
    assert EXPECTED_TEXT[page].lower() in content.lower(), content[:500]

    body = sized.find_element(By.TAG_NAME, "body").text
    assert "Traceback" not in body
    assert "You don't have access" not in body and "not allowed" not in body.lower()
    assert not sized.find_elements(By.CSS_SELECTOR, ".c360-error, .dash-fe-error__title")
    widths = sized.execute_script("return [document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1] + 1, f"{path} scrolls sideways at {size}: {widths}"
