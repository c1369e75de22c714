"""Strategy in a real browser, at desktop (1440x900) and phone (390x844) widths: the executive
reaches it from the navbar, every panel fills, a deep link reproduces the view and a control
writes it, a churn chip explains itself, a row opens the customer, and nothing overflows
sideways on a phone. Explicit waits only, no sleeps."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec

from layouts.executive_strategy import StrategyIds as ID
from tests.layouts.test_morning_coffee import SIZES, assert_no_error
from tests.layouts.test_pages import sign_in, wait

pytestmark = pytest.mark.browser

PANELS = (ID.RETENTION, ID.CONCENTRATION, ID.SEGMENTS, ID.GROWTH, ID.LIFETIME_VALUE, ID.SATISFACTION, ID.POTENTIAL,
          ID.CHURN)


@pytest.fixture(params=list(SIZES))
def sized(browser, request, insights_ran):
    """The browser at one of the two widths, with the models' scores and the feedback sums in gold."""
    width, height = SIZES[request.param]
    browser.set_window_size(width, height)
    yield browser
    browser.set_window_size(1400, 1000)


def _filled(browser) -> bool:
    """Every panel holds a card with a figure in it, and no panel is still loading."""
    texts = browser.execute_script(
        "return arguments[0].map(id => { const e = document.getElementById(id); "
        "return e && !e.querySelector('.c360-skeleton') ? e.innerText : ''; });", list(PANELS))
    return all(any(ch.isdigit() for ch in text) for text in texts)


def test_the_executive_reaches_the_page_from_morning_coffee_and_every_panel_fills(sized, live_server):
    sign_in(sized, live_server, "executive")
    sized.get(f"{live_server}/executive")
    if sized.get_window_size()["width"] < 992:  # the navbar folds on phones: one tap to open it
        wait(sized).until(ec.element_to_be_clickable((By.CSS_SELECTOR, ".navbar-toggler"))).click()
    wait(sized).until(ec.element_to_be_clickable((By.LINK_TEXT, "Strategy"))).click()
    wait(sized).until(lambda b: urlparse(b.current_url).path == "/executive/strategy")
    wait(sized).until(_filled)
    assert "Logo retention" in sized.find_element(By.ID, ID.RETENTION).text
    assert "top 5" in sized.find_element(By.ID, ID.CONCENTRATION).text.lower()
    # The satisfaction trend: a line per segment and one for the whole scope, in each panel drawn.
    wait(sized).until(lambda b: len(b.find_elements(By.CSS_SELECTOR, f"#{ID.SATISFACTION_TREND} .scatterlayer .trace"))
                      >= 8)
    assert "All segments" in sized.find_element(By.ID, ID.SATISFACTION_TREND).text
    overflow = sized.execute_script("return [document.documentElement.scrollWidth, window.innerWidth]")
    assert overflow[0] <= overflow[1] + 1, overflow
    assert_no_error(sized)


def test_a_deep_link_reproduces_the_view_and_a_control_writes_the_url(browser, live_server, insights_ran):
    sign_in(browser, live_server, "executive")
    browser.get(f"{live_server}/executive/strategy?by=product_line&month=2026-03")
    wait(browser).until(_filled)
    retention = browser.find_element(By.ID, ID.RETENTION).text
    assert "By product line" in retention and "28 Feb 2025 \u2013 31 Mar 2026" not in retention
    assert "31 Mar 2025 \u2013 31 Mar 2026" in retention
    segment = browser.find_element(By.CSS_SELECTOR, f"#{ID.BREAKDOWN} input[value='segment']")
    browser.execute_script("arguments[0].click();", segment)
    wait(browser).until(lambda b: parse_qs(urlparse(b.current_url).query).get("by") == ["segment"])
    assert parse_qs(urlparse(browser.current_url).query)["month"] == ["2026-03"]
    wait(browser).until(lambda b: "By segment" in b.find_element(By.ID, ID.RETENTION).text)
    browser.back()
    wait(browser).until(lambda b: "By product line" in b.find_element(By.ID, ID.RETENTION).text)
    browser.get(f"{live_server}/executive/strategy?by=nonsense")
    wait(browser).until(ec.text_to_be_present_in_element((By.ID, ID.NOTE), "Unknown breakdown"))
    assert_no_error(browser)


def test_a_churn_chip_explains_itself_and_a_row_opens_the_customer(sized, live_server):
    sign_in(sized, live_server, "executive")
    sized.get(f"{live_server}/executive/strategy")
    chip_selector = f"#{ID.TOP_GRID} .ag-row[row-index='0'] .c360-chip"
    wait(sized).until(ec.presence_of_element_located((By.CSS_SELECTOR, chip_selector)))

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
    assert "churn" in sized.find_element(By.ID, ID.CHIP_BODY).text.lower()
    sized.find_element(By.CSS_SELECTOR, f"#{ID.CHIP_MODAL} .btn-close").click()
    wait(sized).until(ec.invisibility_of_element_located((By.ID, ID.CHIP_BODY)))
    cell = sized.find_element(By.CSS_SELECTOR, f"#{ID.TOP_GRID} .ag-row[row-index='0'] [col-id='region']")
    sized.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'});", cell)
    ActionChains(sized).move_to_element(cell).click().perform()
    wait(sized).until(lambda b: urlparse(b.current_url).path.startswith("/accounts/"))
    assert_no_error(sized)
