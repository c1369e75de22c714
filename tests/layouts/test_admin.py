"""In a real browser: an admin creates a sales manager with one territory; that person signs in
with the one-time password, chooses their own, and sees only that territory's accounts."""

from __future__ import annotations

import json

from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as ec

from dashboard.landing import landing_path
from layouts.admin_users import ID
from tests.conftest import sign_out
from tests.layouts.test_pages import sign_in, sign_in_form, wait

NEW_EMAIL = "browser-rep@test.client360.dev"
NEW_PASSWORD = "my-own-long-passphrase-2026"


def _choose(browser, dropdown_id: str, label: str) -> None:
    """Open a Dash dropdown and click the option with this label."""
    browser.find_element(By.ID, dropdown_id).click()
    option = wait(browser).until(ec.element_to_be_clickable(
        (By.XPATH, f"//*[contains(@class,'dash-dropdown-option')][normalize-space()='{label}']")))
    option.click()
    # To whatever has the focus: the dropdown may redraw its input once a choice is made.
    ActionChains(browser).send_keys(Keys.ESCAPE).perform()


def test_admin_creates_a_territory_user_who_then_sees_only_that_territory(browser, live_server, scope_facts):
    sign_in(browser, live_server, "admin")
    assert browser.find_elements(By.ID, "nav-admin/users")
    browser.get(live_server + "/admin/users")
    wait(browser).until(ec.element_to_be_clickable((By.ID, ID.NEW_EMAIL))).send_keys(NEW_EMAIL)
    browser.find_element(By.ID, ID.NEW_NAME).send_keys("Browser Rep")
    _choose(browser, ID.NEW_ROLE, "sales manager")
    _choose(browser, ID.NEW_TERRITORIES, scope_facts.territory)
    create = browser.find_element(By.ID, ID.CREATE)
    # Below the fold, and a closing dropdown can still cover it for a moment: scroll to it, then
    # dispatch the click on the button itself.
    browser.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'});", create)
    browser.execute_script("arguments[0].click();", create)
    password = wait(browser).until(ec.visibility_of_element_located((By.ID, "au-one-time-password"))).text.strip()
    assert len(password) >= 12
    # The list shows the new user with their territory.
    wait(browser).until(ec.text_to_be_present_in_element((By.ID, ID.TABLE), NEW_EMAIL))

    sign_out(browser, live_server)
    sign_in_form(browser, live_server).send_keys(NEW_EMAIL)
    browser.find_element(By.ID, "password").send_keys(password)
    browser.find_element(By.ID, "login-submit").click()
    # An administrator set the password, so the user must choose their own first.
    wait(browser).until(ec.presence_of_element_located((By.ID, "password-change-required")))
    browser.find_element(By.ID, "current_password").send_keys(password)
    browser.find_element(By.ID, "new_password").send_keys(NEW_PASSWORD)
    browser.find_element(By.ID, "confirm_password").send_keys(NEW_PASSWORD)
    browser.find_element(By.ID, "password-submit").click()
    # On to the role's landing page.
    wait(browser).until(lambda b: b.current_url == live_server + landing_path("sales_manager"))

    browser.get(live_server + "/")
    wait(browser).until(ec.presence_of_element_located((By.ID, "main-nav")))
    assert not browser.find_elements(By.ID, "nav-admin/users")
    assert not browser.find_elements(By.ID, "nav-executive")
    browser.get(live_server + "/api/v1/accounts?per_page=200")
    body = json.loads(browser.find_element(By.TAG_NAME, "body").text)
    assert body["total"] == len(scope_facts.territory_accounts)
    assert {row["territory"] for row in body["accounts"]} == {scope_facts.territory}
    browser.get(live_server + f"/api/v1/accounts/{scope_facts.other_account}")
    assert json.loads(browser.find_element(By.TAG_NAME, "body").text) == {"error": {"status": 404, "code": "not_found", "message": "not found"}}
