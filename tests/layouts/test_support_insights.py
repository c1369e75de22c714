"""Operations in a real browser, at desktop (1440x900) and phone (390x844) widths: a support lead opens
the page, every panel fills with figures, a VIP row opens the customer's Customer 360 page, the period
writes the URL, and nothing is wider than a phone. Explicit waits only, no sleeps."""

from __future__ import annotations

from urllib.parse import urlparse

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec

from layouts.support_insights import PANELS
from layouts.support_insights import OperationsIds as ID
from tests.layouts.test_morning_coffee import SIZES, assert_no_error
from tests.layouts.test_pages import sign_in, wait

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def text_scored(loaded_database):
    from etl.insights.text import run_text_insights

    run_text_insights(loaded_database, triggered_by="test")
    return loaded_database


@pytest.fixture(params=list(SIZES))
def sized(browser, request, text_scored):
    width, height = SIZES[request.param]
    browser.set_window_size(width, height)
    yield browser
    browser.set_window_size(1400, 1000)


def _filled(browser) -> bool:
    texts = browser.execute_script(
        "return arguments[0].map(id => { const e = document.getElementById(id); "
        "return e && !e.querySelector('.c360-skeleton') ? e.innerText : ''; });", list(PANELS))
    return all(any(ch.isdigit() for ch in text) for text in texts)


def test_every_panel_fills_and_nothing_is_wider_than_the_screen(sized, live_server):
    sign_in(sized, live_server, "support_lead")
    sized.get(f"{live_server}/support/insights")
    wait(sized).until(_filled)
    assert sized.find_element(By.ID, ID.PAGE)
    assert "returning" in sized.find_element(By.ID, ID.REPEAT).text.lower()
    assert "within sla" in sized.find_element(By.ID, ID.COMPLAINTS).text.lower()
    assert "wilson" in sized.find_element(By.ID, ID.SATISFACTION).text.lower()
    overflow = sized.execute_script("return [document.documentElement.scrollWidth, window.innerWidth]")
    wide = sized.execute_script(
        "return Array.from(document.querySelectorAll('body *')).filter(e => e.getBoundingClientRect().right > "
        "window.innerWidth + 1).slice(0, 12).map(e => e.tagName + '#' + e.id + '.' + e.className + ' ' + "
        "Math.round(e.getBoundingClientRect().left) + '-' + Math.round(e.getBoundingClientRect().right));")
    assert overflow[0] <= overflow[1] + 1, (overflow, wide)
    assert_no_error(sized)


def test_a_vip_row_opens_customer_360(sized, live_server):
    sign_in(sized, live_server, "executive")
    sized.get(f"{live_server}/support/insights")
    selector = f"#{ID.VIP_GRID} .ag-row[row-index='0'] [col-id='urgency']"
    wait(sized).until(ec.presence_of_element_located((By.CSS_SELECTOR, selector)))
    row_id = sized.execute_script(
        "return document.querySelector(arguments[0]).closest('.ag-row').getAttribute('row-id');", selector)
    cell = sized.find_element(By.CSS_SELECTOR, selector)
    sized.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'});", cell)
    ActionChains(sized).move_to_element(cell).click().perform()
    wait(sized).until(lambda b: urlparse(b.current_url).path == f"/accounts/{row_id}")
    assert_no_error(sized)


def test_the_period_is_in_the_url(browser, live_server, text_scored):
    sign_in(browser, live_server, "support_lead")
    browser.get(f"{live_server}/support/insights?days=7")
    wait(browser).until(_filled)
    assert "last 7 days" in browser.find_element(By.ID, ID.REPEAT).text
    browser.get(f"{live_server}/support/insights?days=nonsense")
    wait(browser).until(ec.text_to_be_present_in_element((By.ID, ID.NOTE), "7, 30 or 90 days"))
    assert_no_error(browser)
