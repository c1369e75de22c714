"""Sales in a real browser, at desktop (1440x900) and phone (390x844) widths: a sales manager linked
to a CRM region signs in and lands on the page, which answers the sales persona's questions at once
(deal stages, this quarter's revenue, open deals and their probability); they drill from their
region to a territory, a rep and one account and back up the breadcrumb, change the quarter, export
the opportunities grid through the server and open an account from it. Explicit waits only."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest
from selenium.common.exceptions import TimeoutException, WebDriverException
from selenium.webdriver.common.actions.action_builder import ActionBuilder
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec

from layouts.sales import SalesIds as ID
from tests.callbacks.test_sales import linked_sales_manager
from tests.conftest import TEST_PASSWORD
from tests.layouts import test_morning_coffee as morning_coffee
from tests.layouts.test_morning_coffee import assert_no_error, search
from tests.layouts.test_pages import sign_in_form, wait
from tests.layouts.test_question_catalogue import PENDING_CALLBACKS

pytestmark = pytest.mark.browser

sized = morning_coffee.sized  # the browser at desktop and phone widths
DRILL_TIMEOUT = 60


def sign_in_email(browser, live_server: str, email: str) -> None:
    sign_in_form(browser, live_server).send_keys(email)
    browser.find_element(By.ID, "password").send_keys(TEST_PASSWORD)
    browser.find_element(By.ID, "login-submit").click()
    wait(browser).until(ec.presence_of_element_located((By.ID, "main-nav")))


def members(browser) -> list[str]:
    """The member ids on the drill chart (the closed-revenue trace's categories)."""
    return browser.execute_script(
        "const g = document.querySelector(arguments[0]); return g && g.data ? g.data[1].y : null;",
        f"#{ID.MEMBERS_GRAPH} .js-plotly-plot") or []


def grid_deals(browser) -> list[str]:
    return browser.execute_script(
        "return [...document.querySelectorAll(arguments[0])].map(e => e.textContent.trim());",
        f"#{ID.OPPORTUNITIES_GRID} .ag-center-cols-container .ag-row [col-id='opportunity_id']")


def crumbs(browser) -> list[str]:
    return [e.text.strip() for e in browser.find_elements(By.CSS_SELECTOR, f"#{ID.BREADCRUMB} .breadcrumb-item")]


def click_top_member(browser) -> str:
    """Click the bar of the top member (largest closed revenue; its pipeline bar when it closed nothing)
    and return its id."""
    top = members(browser)[-1]  # Plotly draws the first category at the bottom
    for trace in ("last-child", "first-child"):
        bars = browser.find_elements(By.CSS_SELECTOR, f"#{ID.MEMBERS_GRAPH} .barlayer .trace:{trace} .point")
        if bars and bars[-1].size["width"] > 2:
            browser.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'})", bars[-1])
            # Near the bar's start: on a phone its value label may push its centre past the plot area.
            left, middle = browser.execute_script(
                "const r = arguments[0].getBoundingClientRect(); "
                "return [r.left + Math.min(r.width / 2, 20), r.top + r.height / 2];", bars[-1])
            actions = ActionBuilder(browser)
            actions.pointer_action.move_to_location(int(left), int(middle)).click()
            actions.perform()
            return top
    raise AssertionError("the top member has no bar to click")


def drill(browser, level: str) -> str:
    """Click the top member's bar once the page has settled and wait for the URL to name it at `level`;
    a click that landed while Plotly was still sizing the chart is tried again."""
    for _ in range(4):
        wait(browser, DRILL_TIMEOUT).until(lambda b: b.execute_script(PENDING_CALLBACKS) == 0 and members(b))
        try:
            clicked = click_top_member(browser)
        except WebDriverException:  # the chart was redrawn under the pointer
            continue
        try:
            return wait(browser, 15).until(lambda b, clicked=clicked: search(b).get(level) == [clicked] and clicked)
        except TimeoutException:
            continue
    raise AssertionError(f"a click on the top member never drilled to its {level}")


def wait_for_panels(browser) -> None:
    wait(browser, DRILL_TIMEOUT).until(lambda b: members(b))
    wait(browser, DRILL_TIMEOUT).until(ec.presence_of_element_located((By.CSS_SELECTOR, f"#{ID.FUNNEL} .js-plotly-plot")))


def test_a_sales_manager_lands_on_sales_and_the_answers_are_there(sized, live_server):
    email, region = linked_sales_manager()
    sign_in_email(sized, live_server, email)
    wait(sized).until(lambda b: urlparse(b.current_url).path == "/sales")
    wait(sized, DRILL_TIMEOUT).until(lambda b: grid_deals(b))
    # The breadcrumb is drawn by its own callback, which may answer after the grid's.
    assert wait(sized).until(crumbs)[0] == region  # the drill starts at their region
    kpis = sized.find_element(By.ID, ID.KPIS).text.casefold()
    assert "closed revenue, quarter" in kpis and "$" in kpis  # sales-3: this quarter's revenue
    header = sized.find_element(By.ID, ID.OPPORTUNITIES).text.casefold()
    assert "stage" in header and "probability" in header  # sales-1 and sales-4: stage and probability per account
    overflow = sized.execute_script("return [document.documentElement.scrollWidth, window.innerWidth]")
    assert overflow[0] <= overflow[1], overflow
    assert_no_error(sized)


def test_a_sales_manager_drills_to_an_account_and_back_changes_the_quarter_exports_and_opens_it(sized, live_server):
    email, region = linked_sales_manager()
    sign_in_email(sized, live_server, email)
    sized.get(f"{live_server}/sales?quarter=2026Q3")
    wait_for_panels(sized)
    territory = drill(sized, "territory")
    wait(sized, DRILL_TIMEOUT).until(lambda b: (m := members(b)) and territory not in m and m[-1].startswith("USR-"))
    drill(sized, "rep")
    wait(sized, DRILL_TIMEOUT).until(lambda b: (m := members(b)) and m[-1].startswith("ACC-"))
    drill(sized, "account")
    wait(sized, DRILL_TIMEOUT).until(lambda b: (m := members(b)) and m[-1].startswith("OPP-"))
    wait(sized).until(lambda b: len(crumbs(b)) == 4 and crumbs(b)[0] == region)
    assert search(sized)["region"] == [region] and search(sized)["quarter"] == ["2026Q3"]

    # Back up the breadcrumb to the region.
    link = wait(sized).until(ec.element_to_be_clickable((By.CSS_SELECTOR, f"#{ID.BREADCRUMB} a")))
    assert link.text == region
    # Clicked through the DOM: panels still settling below may shift the page under a pointer click.
    sized.execute_script("arguments[0].click()", link)
    wait(sized, DRILL_TIMEOUT).until(lambda b: "territory" not in search(b) and "account" not in search(b))
    wait(sized, DRILL_TIMEOUT).until(lambda b: territory in members(b))

    # Another quarter: the URL says so and the drill stays.
    quarter = sized.find_element(By.ID, ID.QUARTER)
    sized.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'})", quarter)
    quarter.click()
    option = wait(sized).until(ec.element_to_be_clickable(
        (By.XPATH, "//*[contains(@class,'dash-dropdown-option')][normalize-space()='Q2 2026']")))
    option.click()  # a single choice closes the list, and the page follows the new URL
    wait(sized, DRILL_TIMEOUT).until(lambda b: search(b).get("quarter") == ["2026Q2"])
    assert search(sized)["region"] == [region]
    wait(sized, DRILL_TIMEOUT).until(ec.text_to_be_present_in_element((By.ID, ID.PERIOD_LABEL), "Q2 2026"))

    # The export is the grid, through the server.
    deals = wait(sized, DRILL_TIMEOUT).until(lambda b: grid_deals(b))
    export = sized.find_element(By.ID, f"{ID.OPPORTUNITIES}-export-csv").get_attribute("href")
    assert urlparse(export).path == f"/export/{ID.OPPORTUNITIES}.csv"
    assert parse_qs(urlparse(export).query)["quarter"] == ["2026Q2"]
    status, content_type, body = sized.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "fetch(arguments[0], {credentials: 'same-origin'})"
        ".then(r => r.text().then(t => done([r.status, r.headers.get('content-type'), t])))", export)
    assert status == 200 and content_type.startswith("text/csv")
    lines = [line for line in body.splitlines() if line.strip()]
    assert lines[0].startswith("Account,Opportunity,Stage,Amount (USD),Probability")
    assert set(deals) <= {line.rsplit(",", 1)[-1] for line in lines[1:]}

    # A row opens its account (on the page loaded afresh from its URL, as a link to this view would;
    # clicked again should the grid have been redrawn under the first click).
    sized.get(sized.current_url)
    for _ in range(3):
        wait(sized, DRILL_TIMEOUT).until(lambda b: b.execute_script(PENDING_CALLBACKS) == 0 and grid_deals(b))
        cell = sized.find_element(By.CSS_SELECTOR, f"#{ID.OPPORTUNITIES_GRID} .ag-center-cols-container .ag-row "
                                                   "[col-id='stage']")
        sized.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'})", cell)
        try:
            # Through the DOM: the page's scrolling can leave the row under the sticky navbar.
            sized.execute_script("arguments[0].click()", cell)
            wait(sized, 15).until(lambda b: urlparse(b.current_url).path.startswith("/accounts/ACC-"))
            break
        except (TimeoutException, WebDriverException):
            continue
    assert urlparse(sized.current_url).path.startswith("/accounts/ACC-")
    assert_no_error(sized)


def test_the_forecast_panel_draws_its_figures_and_bands_and_fits_a_phone(sized, live_server, bookings_forecasts_ran):
    email, region = linked_sales_manager()
    sign_in_email(sized, live_server, email)
    sized.get(f"{live_server}/sales?quarter=2026Q4")
    graph = wait(sized, DRILL_TIMEOUT).until(ec.presence_of_element_located(
        (By.CSS_SELECTOR, f"#{ID.FORECAST_GRAPH} .js-plotly-plot")))
    sized.execute_script("arguments[0].scrollIntoView({block: 'center'})", graph)
    wait(sized, DRILL_TIMEOUT).until(lambda b: b.execute_script(PENDING_CALLBACKS) == 0)
    figures = sized.find_element(By.ID, ID.FORECAST_FIGURES).text.casefold()
    for title in ("expected revenue", "closed won", "weighted open", "commit", "best case", "pipeline", "quota"):
        assert title in figures, title
    assert "$" in figures
    panel = sized.find_element(By.ID, ID.FORECAST).text
    assert f"Monthly won bookings, {region}" in panel and "Last quarter, Q3 2026" in panel
    # The bars of the bookings, the two shaded bands and the forecast line are drawn.
    traces = sized.execute_script("const g = document.querySelector(arguments[0]); "
                                  "return g && g.data ? g.data.map(t => t.name) : [];",
                                  f"#{ID.FORECAST_GRAPH} .js-plotly-plot")
    assert traces == ["Booked", "95 % band", "80 % band", "Forecast"]
    assert sized.find_elements(By.CSS_SELECTOR, f"#{ID.FORECAST_GRAPH} .scatterlayer .trace path.js-fill")
    table = sized.find_element(By.ID, ID.FORECAST_LAST_QUARTER)
    assert table.is_displayed() and "in 80 %" in table.text.casefold() and "the forecast;" in table.text
    overflow = sized.execute_script("return [document.documentElement.scrollWidth, window.innerWidth]")
    assert overflow[0] <= overflow[1], overflow
    assert_no_error(sized)
