"""Leads and buyers in a real browser, at desktop (1440x900) and phone (390x844) widths: a sales
manager limited to their territory reaches it from their landing page in one navbar click, every
panel fills (the lead model's AUC, the likely repeat buyers, the customers buying less and why),
a deep link reproduces the view, the grids export for it, and a row opens the customer.
Explicit waits only, no sleeps."""

from __future__ import annotations

from urllib.parse import urlparse

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec

from layouts.sales_leads import LeadsIds as ID
from tests.layouts.test_morning_coffee import SIZES, assert_no_error
from tests.layouts.test_pages import sign_in, wait

pytestmark = pytest.mark.browser

PANELS = (ID.LEADS, ID.REPEAT, ID.DECLINE, ID.RENEWALS, ID.POTENTIAL)
SCOPED_SALES = "scoped-sales"  # tests/dashboard/security/scoped_users.py: a sales manager with one territory


@pytest.fixture(params=list(SIZES))
def sized(browser, request, leads_scored, insights_ran, scoped_users):
    width, height = SIZES[request.param]
    browser.set_window_size(width, height)
    yield browser
    browser.set_window_size(1400, 1000)


def _filled(browser) -> bool:
    texts = browser.execute_script(
        "return arguments[0].map(id => { const e = document.getElementById(id); "
        "return e && !e.querySelector('.c360-skeleton') ? e.innerText : ''; });", list(PANELS))
    return all(any(ch.isdigit() for ch in text) for text in texts)


def test_a_sales_manager_reaches_the_page_in_one_click_and_every_panel_answers(sized, live_server, scope_facts):
    sign_in(sized, live_server, SCOPED_SALES)  # lands on their landing page
    if sized.get_window_size()["width"] < 992:  # the navbar folds on phones: one tap to open it
        wait(sized).until(ec.element_to_be_clickable((By.CSS_SELECTOR, ".navbar-toggler"))).click()
    wait(sized).until(ec.element_to_be_clickable((By.LINK_TEXT, "Leads and buyers"))).click()
    wait(sized).until(lambda b: urlparse(b.current_url).path == "/sales/leads")
    wait(sized).until(_filled)
    leads = sized.find_element(By.ID, ID.LEADS).text.lower()  # the headline titles are set in capitals
    assert "model auc" in leads and "validated on" in leads
    assert "likely still buying" in sized.find_element(By.ID, ID.REPEAT).text.lower()  # sales-2
    decline = sized.find_element(By.ID, ID.DECLINE).text.lower()  # sales-5
    assert "churned" in decline and "why" in decline
    renewals = sized.find_element(By.ID, ID.RENEWALS).text.lower()
    assert "renewals due" in renewals and "in the next 6 months" in renewals
    assert "candidates" in sized.find_element(By.ID, ID.POTENTIAL).text.lower()
    territories = sized.execute_script(
        "return Array.from(document.querySelectorAll(arguments[0])).map(e => e.innerText.trim());",
        f"#{ID.REPEAT_GRID} .ag-center-cols-container [col-id='territory']")
    assert territories and set(territories) == {scope_facts.territory}
    overflow = sized.execute_script("return [document.documentElement.scrollWidth, window.innerWidth]")
    wide = sized.execute_script(
        "return Array.from(document.querySelectorAll('body *')).filter(e => e.getBoundingClientRect().right > "
        "window.innerWidth + 1).slice(0, 5).map(e => e.tagName + '#' + e.id + '.' + e.className);")
    assert overflow[0] <= overflow[1] + 1, (overflow, wide)
    assert_no_error(sized)


def test_a_deep_link_reproduces_the_view_and_the_exports_follow_it(browser, live_server, leads_scored, insights_ran):
    sign_in(browser, live_server, "executive")
    browser.get(f"{live_server}/sales/leads?source=referral&kind=churned&months=3")
    wait(browser).until(_filled)
    sources = browser.execute_script(
        "return Array.from(document.querySelectorAll(arguments[0])).map(e => e.innerText.trim());",
        f"#{ID.LEADS_GRID} .ag-center-cols-container [col-id='lead_source']")
    assert sources and set(sources) == {"referral"}
    kinds = browser.execute_script(
        "return Array.from(document.querySelectorAll(arguments[0])).map(e => e.innerText.trim());",
        f"#{ID.DECLINE_GRID} .ag-center-cols-container [col-id='decline_kind']")
    assert set(kinds) <= {"churned"}
    href = browser.find_element(By.ID, f"{ID.LEADS}-export-csv").get_attribute("href")
    assert href.endswith("/export/ld-leads.csv?source=referral&kind=churned&months=3")
    assert "in the next 3 months" in browser.find_element(By.ID, ID.RENEWALS).text
    renewals_csv = browser.find_element(By.ID, f"{ID.RENEWALS}-export-csv").get_attribute("href")
    assert renewals_csv.endswith("/export/ld-renewals.csv?source=referral&kind=churned&months=3")
    browser.get(f"{live_server}/sales/leads?source=nonsense")
    wait(browser).until(ec.text_to_be_present_in_element((By.ID, ID.NOTE), "Unknown lead source"))
    assert_no_error(browser)


def test_a_repeat_buyer_row_opens_the_customer(sized, live_server):
    sign_in(sized, live_server, "executive")
    sized.get(f"{live_server}/sales/leads")
    selector = f"#{ID.REPEAT_GRID} .ag-row[row-index='0'] [col-id='region']"
    wait(sized).until(ec.presence_of_element_located((By.CSS_SELECTOR, selector)))
    cell = sized.find_element(By.CSS_SELECTOR, selector)
    sized.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'});", cell)
    ActionChains(sized).move_to_element(cell).click().perform()
    wait(sized).until(lambda b: urlparse(b.current_url).path.startswith("/accounts/"))
    assert_no_error(sized)
