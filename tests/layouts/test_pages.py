"""What only a browser shows: the login form, rendered cards and charts, filters that
change the numbers, and pages a role may not see. Explicit waits only, no sleeps."""

from __future__ import annotations

import warnings

from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from layouts.morning_coffee import MorningCoffeeIds as ID
from tests.conftest import TEST_PASSWORD, sign_out

TIMEOUT = 30
# Selenium looks again every half second by default: most conditions hold within a few hundred
# milliseconds, and the browser tests wait thousands of times.
POLL_SECONDS = 0.1
SCREENSHOT = "/tmp/morning_coffee.png"
KPI_VALUE = f"#{ID.KPI_CUSTOMERS} .c360-kpi-value"


def wait(browser, timeout: float = TIMEOUT) -> WebDriverWait:
    return WebDriverWait(browser, timeout, poll_frequency=POLL_SECONDS,
                         ignored_exceptions=(StaleElementReferenceException,))


def sign_in_form(browser, live_server: str):
    """The sign-in form's email field, signed out first.

    The browser fixture signs out on the server, so a late answer to a callback of the page just left
    cannot sign the browser back in; should the sign-in page still send the browser on, sign out
    and ask again. The failure names where the browser was instead.
    """
    seen = []
    for _ in range(3):
        browser.get(live_server + "/login")
        try:
            return wait(browser, TIMEOUT / 3).until(ec.element_to_be_clickable((By.ID, "email")))
        except TimeoutException:
            seen.append(f"{browser.current_url} (title {browser.title!r}, "
                        f"cookies {[c['name'] for c in browser.get_cookies()]})")
            warnings.warn(f"no sign-in form at {seen[-1]}; signing out and asking again", stacklevel=2)
            sign_out(browser, live_server)
    raise AssertionError("the sign-in form never showed; the browser was at " + "; ".join(seen))


def sign_in(browser, live_server: str, role: str) -> None:
    """Log in through the login form, as a person would."""
    sign_in_form(browser, live_server).send_keys(f"{role}@test.client360.dev")
    browser.find_element(By.ID, "password").send_keys(TEST_PASSWORD)
    browser.find_element(By.ID, "login-submit").click()
    wait(browser).until(ec.presence_of_element_located((By.ID, "main-nav")))


def kpi_text(browser) -> str | bool:
    """The active-customers figure once a callback has filled it, else False."""
    # Read through JavaScript: Dash replaces the card on every update, so a WebElement goes stale.
    text = (browser.execute_script("const e = document.querySelector(arguments[0]); "
                                   "return e ? e.textContent : '';", KPI_VALUE) or "").strip()
    return text if text and text[0].isdigit() else False


def test_executive_sees_morning_coffee_and_filters_change_the_numbers(browser, live_server):
    sign_in(browser, live_server, "executive")
    assert browser.find_elements(By.ID, "nav-executive")
    browser.find_element(By.ID, "nav-executive").click()

    all_regions = wait(browser).until(kpi_text)
    for card in (ID.KPI_CONTACTS, ID.KPI_LEADS, ID.KPI_EFFICIENCY, ID.KPI_MRR):
        wait(browser).until(ec.presence_of_element_located((By.CSS_SELECTOR, f"#{card} .c360-kpi-value")))
    for chart in (ID.MRR_TREND, ID.REVENUE_BY_REGION):
        wait(browser).until(ec.visibility_of_element_located((By.CSS_SELECTOR, f"#{chart} .js-plotly-plot .main-svg")))
    wait(browser).until(ec.presence_of_element_located((By.CSS_SELECTOR, f"#{ID.TOP_ACCOUNTS} .ag-row")))
    wait(browser).until(ec.presence_of_element_located((By.CSS_SELECTOR, f"#{ID.CAMPAIGNS} .c360-inline-kpi")))
    assert browser.find_element(By.CSS_SELECTOR, f"#{ID.KPI_MRR} .c360-kpi-value").text.startswith("$")
    assert "All regions" in browser.find_element(By.ID, ID.PERIOD_LABEL).text
    _full_page_screenshot(browser, SCREENSHOT)

    # Pick the first region in the multi-select; every figure is recomputed for it.
    browser.find_element(By.ID, ID.REGIONS).click()
    option = wait(browser).until(ec.element_to_be_clickable((By.CSS_SELECTOR, ".dash-dropdown-options .dash-dropdown-option")))
    region = option.text.strip()
    option.click()
    # To whatever has the focus: the dropdown may redraw its input once a choice is made.
    ActionChains(browser).send_keys(Keys.ESCAPE).perform()
    wait(browser).until(ec.text_to_be_present_in_element((By.ID, ID.PERIOD_LABEL), region))
    one_region = wait(browser).until(lambda b: (t := kpi_text(b)) and t != all_regions and t)
    assert int(one_region.replace(",", "")) < int(all_regions.replace(",", ""))


def test_support_lead_cannot_see_or_open_the_executive_page(browser, live_server):
    sign_in(browser, live_server, "support_lead")
    assert not browser.find_elements(By.ID, "nav-executive")
    browser.get(live_server + "/executive")
    wait(browser).until(ec.presence_of_element_located((By.ID, "forbidden-page")))
    assert not browser.find_elements(By.ID, ID.KPI_CUSTOMERS)
    assert not browser.find_elements(By.ID, ID.DATE_RANGE)


def _full_page_screenshot(browser, path: str) -> None:
    """Grow the window to the page's height for one screenshot, then restore it."""
    size = browser.get_window_size()
    height = browser.execute_script("return document.documentElement.scrollHeight")
    browser.set_window_size(size["width"], max(size["height"], height + 140))
    try:
        wait(browser).until(ec.visibility_of_element_located((By.CSS_SELECTOR, f"#{ID.MRR_TREND} .js-plotly-plot")))
        browser.save_screenshot(path)
    finally:
        browser.set_window_size(size["width"], size["height"])
