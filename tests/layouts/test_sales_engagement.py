"""Engagement radar in a real browser, at desktop (1440x900) and phone (390x844) widths: a sales
manager of one territory reaches it from the navbar, every panel fills, hovering the tier rules shows
their definition, the tier control writes the URL, a sharp drop's row compares it with its peers,
the exports point at the server, and nothing overflows sideways on a phone. Explicit waits only."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec

from layouts.sales_engagement import EngagementIds as ID
from tests.conftest import TEST_PASSWORD
from tests.layouts.test_morning_coffee import SIZES, assert_no_error
from tests.layouts.test_pages import sign_in_form, wait

pytestmark = pytest.mark.browser

PANELS = (ID.TIERS, ID.DISTRIBUTION, ID.DROPS, ID.PEERS, ID.ACCOUNTS, ID.CONTACTS)


@pytest.fixture(params=list(SIZES))
def sized(browser, request, scored):
    """The browser at one of the two widths, with the engagement scores in gold."""
    width, height = SIZES[request.param]
    browser.set_window_size(width, height)
    yield browser
    browser.set_window_size(1400, 1000)


def sign_in_as(browser, live_server: str, email: str) -> None:
    sign_in_form(browser, live_server).send_keys(email)
    browser.find_element(By.ID, "password").send_keys(TEST_PASSWORD)
    browser.find_element(By.ID, "login-submit").click()
    wait(browser).until(ec.presence_of_element_located((By.ID, "main-nav")))


def _filled(browser) -> bool:
    """Every panel holds a card with a figure in it, and no panel is still loading."""
    texts = browser.execute_script(
        "return arguments[0].map(id => { const e = document.getElementById(id); "
        "return e && !e.querySelector('.c360-skeleton') ? e.innerText : ''; });", list(PANELS))
    return all(any(ch.isdigit() for ch in text) for text in texts)


def test_the_sales_manager_reaches_the_page_and_every_panel_fills(sized, live_server, scoped_users):
    sign_in_as(sized, live_server, scoped_users["sales"])
    if sized.get_window_size()["width"] < 992:  # the navbar folds on phones: one tap to open it
        wait(sized).until(ec.element_to_be_clickable((By.CSS_SELECTOR, ".navbar-toggler"))).click()
    wait(sized).until(ec.element_to_be_clickable((By.LINK_TEXT, "Engagement radar"))).click()
    wait(sized).until(lambda b: urlparse(b.current_url).path == "/sales/engagement")
    wait(sized).until(_filled)
    assert "Potential" in sized.find_element(By.ID, ID.TIERS).text
    rules = sized.find_element(By.ID, ID.RULES)
    sized.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'});", rules)
    ActionChains(sized).move_to_element(rules).perform()
    wait(sized).until(ec.visibility_of_element_located((By.ID, ID.RULES_TOOLTIP)))
    tooltip = sized.find_element(By.ID, ID.RULES_TOOLTIP).text
    assert "0.60" in tooltip and "0.30" in tooltip and "Watch List" in tooltip
    overflow = sized.execute_script("return [document.documentElement.scrollWidth, window.innerWidth]")
    assert overflow[0] <= overflow[1] + 1, overflow
    assert_no_error(sized)


def test_the_tier_control_writes_the_url_and_the_exports_follow_it(browser, live_server, scoped_users, scored):
    sign_in_as(browser, live_server, scoped_users["sales"])
    browser.get(f"{live_server}/sales/engagement")
    wait(browser).until(_filled)
    potential = browser.find_element(By.CSS_SELECTOR, f"#{ID.TIER} input[value='Potential']")
    browser.execute_script("arguments[0].click();", potential)
    wait(browser).until(lambda b: parse_qs(urlparse(b.current_url).query).get("tier") == ["Potential"])
    wait(browser).until(lambda b: "contacts of Potential" in b.find_element(By.ID, ID.CONTACTS).text)
    wait(browser).until(lambda b: "customers of Potential" in b.find_element(By.ID, ID.ACCOUNTS).text)
    csv_link = browser.find_element(By.ID, "eg-contacts-export-csv").get_attribute("href")
    assert urlparse(csv_link).path == "/export/eg-contacts.csv" and "tier=Potential" in csv_link
    campaign = browser.find_element(By.ID, "eg-campaign-list-export-csv").get_attribute("href")
    assert urlparse(campaign).path == "/export/eg-campaign-list.csv"
    browser.back()
    wait(browser).until(lambda b: "contacts of every tier" in b.find_element(By.ID, ID.CONTACTS).text)
    browser.get(f"{live_server}/sales/engagement?tier=nonsense")
    wait(browser).until(ec.text_to_be_present_in_element((By.ID, ID.NOTE), "Unknown tier"))
    assert_no_error(browser)


def test_a_drop_explains_its_chip_and_its_row_compares_it_with_its_peers(sized, live_server):
    """As the executive (company-wide): some customers have dropped sharply."""
    sign_in_as(sized, live_server, "executive@test.client360.dev")
    sized.get(f"{live_server}/sales/engagement")
    row = f"#{ID.DROPS_GRID} .ag-row[row-index='1']"
    wait(sized).until(ec.presence_of_element_located((By.CSS_SELECTOR, row)))
    chip_selector = f"#{ID.DROPS_GRID} .ag-row[row-index='0'] .c360-chip"

    def clicked_chip(browser) -> bool:
        chip = browser.find_element(By.CSS_SELECTOR, chip_selector)
        browser.execute_script("arguments[0].scrollIntoView({block: 'center', inline: 'center', "
                               "behavior: 'instant'});", chip)
        if not chip.is_displayed():
            return False
        browser.execute_script("arguments[0].click();", chip)
        return True

    wait(sized).until(clicked_chip)
    wait(sized).until(ec.visibility_of_element_located((By.ID, ID.CHIP_BODY)))
    assert "of 1" in sized.find_element(By.ID, ID.CHIP_BODY).text
    sized.find_element(By.CSS_SELECTOR, f"#{ID.CHIP_MODAL} .btn-close").click()
    wait(sized).until(ec.invisibility_of_element_located((By.ID, ID.CHIP_BODY)))
    cell = sized.find_element(By.CSS_SELECTOR, f"{row} [col-id='engagement_fall']")
    sized.execute_script("arguments[0].scrollIntoView({block: 'center', inline: 'center', behavior: 'instant'});",
                         cell)
    account_id = sized.find_element(By.CSS_SELECTOR, row).get_attribute("row-id")
    ActionChains(sized).move_to_element(cell).click().perform()
    wait(sized).until(lambda b: parse_qs(urlparse(b.current_url).query).get("account") == [account_id])
    wait(sized).until(lambda b: "peers" in b.find_element(By.ID, ID.PEERS).text)
    assert_no_error(sized)
