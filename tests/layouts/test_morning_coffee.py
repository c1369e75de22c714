"""Morning Coffee in a real browser, at desktop (1440x900) and phone (390x844) widths: the URL
holds the view (deep links, filter changes, back), grids export through the server, a region
bar drills down to its territories and the breadcrumb leads back, picking only a start date
waits quietly for the end date, the navbar folds on phones without horizontal scrolling, and
no panel ever shows an error or a traceback. Explicit waits only, no sleeps."""

from __future__ import annotations

from urllib.parse import parse_qs, quote, urlparse

import pytest
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from dashboard.extensions import db
from dashboard.formatting import format_count
from dashboard.queries import executive as q
from dashboard.scope import DataScope
from layouts.morning_coffee import MorningCoffeeIds as ID
from tests.layouts.test_pages import kpi_text, sign_in, wait

pytestmark = pytest.mark.browser

SIZES = {"desktop": (1440, 900), "phone": (390, 844)}
PERIOD = "start=2026-10-01&end=2026-10-31"
NAVBAR_BREAKPOINT = 992


@pytest.fixture(params=list(SIZES))
def sized(browser, request):
    """The browser at one of the two widths, signed in as an executive."""
    width, height = SIZES[request.param]
    browser.set_window_size(width, height)
    yield browser
    browser.set_window_size(1400, 1000)


@pytest.fixture(scope="module")
def region_names(app) -> list[str]:
    with db.session() as session:
        names = q.regions(session, DataScope.everything())
    assert len(names) >= 2
    return names


def search(browser) -> dict[str, list[str]]:
    return parse_qs(urlparse(browser.current_url).query)


def open_page(browser, live_server: str, query: str = PERIOD) -> None:
    browser.get(f"{live_server}/executive?{query}")
    wait(browser).until(kpi_text)


def assert_no_error(browser) -> None:
    assert not browser.find_elements(By.CSS_SELECTOR, ".c360-error-state")
    assert "Traceback" not in browser.page_source


def revenue_categories(browser) -> list[str]:
    """The category labels of the revenue chart's current bars."""
    return browser.execute_script(
        "const g = document.querySelector(arguments[0]); return g && g.data ? g.data[1].y : null;",
        f"#{ID.REVENUE_GRAPH} .js-plotly-plot") or []


def test_deep_link_reproduces_the_view(sized, live_server, region_names):
    region = region_names[0]
    sign_in(sized, live_server, "executive")
    open_page(sized, live_server, f"{PERIOD}&region={quote(region)}")
    wait(sized).until(ec.text_to_be_present_in_element((By.ID, ID.PERIOD_LABEL), "1 Oct 2026 \u2013 31 Oct 2026"))
    label = sized.find_element(By.ID, ID.PERIOD_LABEL).text
    assert region in label and "All regions" not in label
    pickers = [i.get_attribute("value") for i in
               sized.find_elements(By.CSS_SELECTOR, f"#{ID.DATE_RANGE}-wrapper .dash-datepicker-input")]
    assert pickers == ["1 Oct 2026", "31 Oct 2026"]
    assert region in sized.find_element(By.ID, ID.REGIONS).text

    with db.session() as session:
        stock = q.stock_kpis(session, q.MorningCoffeeFilters(q.date(2026, 10, 1), q.date(2026, 10, 31), (region,), scope=DataScope.everything()))
    wait(sized).until(lambda b: kpi_text(b) == format_count(stock.active_customers.current))
    wait(sized).until(lambda b: revenue_categories(b) == [region])
    wait(sized).until(ec.presence_of_element_located((By.CSS_SELECTOR, f"#{ID.TOP_ACCOUNTS_GRID} .ag-row")))
    chips = sized.find_elements(By.CSS_SELECTOR, f"#{ID.TOP_ACCOUNTS_GRID} .ag-center-cols-container .c360-chip, "
                                                 f"#{ID.TOP_ACCOUNTS_GRID} .ag-center-cols-viewport .c360-chip")
    rows = sized.find_elements(By.CSS_SELECTOR, f"#{ID.TOP_ACCOUNTS_GRID} .ag-center-cols-container .ag-row")
    assert rows and len(chips) == len(rows)  # a churn chip on every account
    export = sized.find_element(By.ID, f"{ID.TOP_ACCOUNTS}-export-csv").get_attribute("href")
    assert urlparse(export).path == f"/export/{ID.TOP_ACCOUNTS}.csv"
    assert parse_qs(urlparse(export).query) == {"start": ["2026-10-01"], "end": ["2026-10-31"], "region": [region]}
    # The browser's own session downloads it: the same accounts as the grid, as CSV.
    downloaded = sized.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "fetch(arguments[0], {credentials: 'same-origin'})"
        ".then(r => r.text().then(t => done([r.status, r.headers.get('content-type'), t])))", export)
    status, content_type, body = downloaded
    assert status == 200 and content_type.startswith("text/csv")
    lines = [line for line in body.splitlines() if line.strip()]
    assert len(lines) == len(rows) + 1  # a header and one line per account shown
    assert_no_error(sized)


def test_a_filter_change_writes_the_url_and_back_restores_it(sized, live_server):
    sign_in(sized, live_server, "executive")
    open_page(sized, live_server)
    wait(sized).until(ec.text_to_be_present_in_element((By.ID, ID.PERIOD_LABEL), "All regions"))
    all_regions = wait(sized).until(kpi_text)

    sized.find_element(By.ID, ID.REGIONS).click()
    option = wait(sized).until(ec.element_to_be_clickable((By.CSS_SELECTOR,
                                                          ".dash-dropdown-options .dash-dropdown-option")))
    region = option.text.strip()
    option.click()
    # To whatever has the focus: the dropdown may redraw its input once the choice is made.
    ActionChains(sized).send_keys(Keys.ESCAPE).perform()
    wait(sized).until(lambda b: search(b).get("region") == [region])
    assert search(sized)["start"] == ["2026-10-01"] and search(sized)["end"] == ["2026-10-31"]
    wait(sized).until(ec.text_to_be_present_in_element((By.ID, ID.PERIOD_LABEL), region))
    wait(sized).until(lambda b: (t := kpi_text(b)) and t != all_regions)

    sized.back()
    wait(sized).until(lambda b: "region" not in search(b))
    wait(sized).until(ec.text_to_be_present_in_element((By.ID, ID.PERIOD_LABEL), "All regions"))
    wait(sized).until(lambda b: kpi_text(b) == all_regions)
    sized.forward()
    wait(sized).until(lambda b: search(b).get("region") == [region])
    wait(sized).until(ec.text_to_be_present_in_element((By.ID, ID.PERIOD_LABEL), region))
    assert_no_error(sized)


def test_a_region_bar_drills_down_and_the_breadcrumb_leads_back(sized, live_server, region_names):
    sign_in(sized, live_server, "executive")
    open_page(sized, live_server)
    regions_shown = wait(sized).until(lambda b: (c := revenue_categories(b)) and len(c) >= 2 and c)
    bars = wait(sized).until(lambda b: b.find_elements(By.CSS_SELECTOR,
                                                        f"#{ID.REVENUE_GRAPH} .barlayer .trace:last-child .point"))
    # Plotly draws the first category at the bottom; the data lists the largest last.
    target = regions_shown[-1]
    ActionChains(sized).move_to_element(bars[-1]).click().perform()
    wait(sized).until(lambda b: search(b).get("drill") == [target])
    wait(sized).until(ec.text_to_be_present_in_element((By.ID, ID.REVENUE_BY_REGION),
                                                       f"Revenue in {target} by territory"))
    crumb = wait(sized).until(ec.element_to_be_clickable((By.CSS_SELECTOR, f"#{ID.REVENUE_BREADCRUMB} a")))
    assert crumb.text == "All regions"
    assert target in sized.find_element(By.ID, ID.REVENUE_BREADCRUMB).text
    territories = wait(sized).until(lambda b: (c := revenue_categories(b)) and c != regions_shown and c)
    assert not set(territories) & set(region_names)

    # One level further: a territory's largest accounts, and the breadcrumb back to the territories.
    def clicked_territory(browser) -> bool:
        # The chart may still be redrawn after its categories changed: click again until the URL moves.
        bars = browser.find_elements(By.CSS_SELECTOR, f"#{ID.REVENUE_GRAPH} .barlayer .trace:last-child .point path")
        if bars:
            browser.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'});", bars[-1])
            ActionChains(browser).move_to_element(bars[-1]).click().perform()
        return search(browser).get("territory") == [territories[-1]]

    wait(sized).until(clicked_territory)
    wait(sized).until(ec.text_to_be_present_in_element((By.ID, ID.REVENUE_BY_REGION),
                                                       f"Largest accounts in {territories[-1]}"))
    wait(sized).until(ec.presence_of_element_located((By.CSS_SELECTOR, f"#{ID.REVENUE_ACCOUNTS_GRID} .ag-row")))
    links = sized.find_elements(By.CSS_SELECTOR, f"#{ID.REVENUE_BREADCRUMB} a")
    assert [link.text for link in links] == ["All regions", target]
    links[1].click()
    wait(sized).until(lambda b: "territory" not in search(b) and search(b).get("drill") == [target])
    wait(sized).until(ec.text_to_be_present_in_element((By.ID, ID.REVENUE_BY_REGION),
                                                       f"Revenue in {target} by territory"))

    def clicked_all_regions(browser) -> bool:
        # The page is rebuilt from the new URL: click the breadcrumb of the page now drawn.
        crumbs = browser.find_elements(By.CSS_SELECTOR, f"#{ID.REVENUE_BREADCRUMB} a")
        if len(crumbs) == 1:
            browser.execute_script("arguments[0].click();", crumbs[0])
        return "drill" not in search(browser)

    wait(sized).until(clicked_all_regions)
    wait(sized).until(ec.text_to_be_present_in_element((By.ID, ID.REVENUE_BY_REGION), "Revenue by region"))
    wait(sized).until(lambda b: revenue_categories(b) == regions_shown)
    assert_no_error(sized)


def test_picking_only_a_start_date_waits_for_the_end_date(sized, live_server):
    sign_in(sized, live_server, "executive")
    open_page(sized, live_server)
    before = search(sized)
    sized.find_elements(By.CSS_SELECTOR, f"#{ID.DATE_RANGE}-wrapper .dash-datepicker-input")[0].click()
    days = wait(sized).until(lambda b: b.find_elements(
        By.CSS_SELECTOR, "td.dash-datepicker-calendar-date-inside:not(.dash-datepicker-calendar-date-disabled)"))
    days[2].click()

    def warned_or_recomputed(browser) -> bool:
        note = browser.find_element(By.ID, ID.FILTER_NOTE).text
        return "Unreadable" in note or bool(note.strip()) or search(browser) != before

    end_value = sized.find_elements(By.CSS_SELECTOR, f"#{ID.DATE_RANGE}-wrapper .dash-datepicker-input")[1] \
        .get_attribute("value")
    if not end_value:  # the picker cleared the end: nothing may happen until it is picked
        with pytest.raises(TimeoutException):
            WebDriverWait(sized, 3).until(warned_or_recomputed)
        assert "Unreadable dates" not in sized.page_source
        days = wait(sized).until(lambda b: b.find_elements(
            By.CSS_SELECTOR, "td.dash-datepicker-calendar-date-inside:not(.dash-datepicker-calendar-date-disabled)"))
        days[min(9, len(days) - 1)].click()
    wait(sized).until(lambda b: search(b) != before and "start" in search(b) and "end" in search(b))
    assert search(sized)["start"] != before["start"]
    wait(sized).until(kpi_text)
    assert "Unreadable dates" not in sized.page_source
    assert_no_error(sized)


def test_the_navbar_folds_on_phones_and_nothing_scrolls_sideways(sized, live_server):
    sign_in(sized, live_server, "executive")
    open_page(sized, live_server)
    wait(sized).until(ec.presence_of_element_located((By.CSS_SELECTOR, f"#{ID.TOP_ACCOUNTS_GRID} .ag-row")))
    wait(sized).until(ec.presence_of_element_located((By.CSS_SELECTOR, f"#{ID.MRR_TREND} .js-plotly-plot")))
    width = sized.execute_script("return window.innerWidth")
    toggler = sized.find_element(By.ID, "navbar-toggler")
    if width < NAVBAR_BREAKPOINT:
        assert toggler.is_displayed()
        assert not sized.find_element(By.ID, "nav-executive").is_displayed()
        toggler.click()
        wait(sized).until(ec.visibility_of_element_located((By.ID, "nav-executive")))
    else:
        assert not toggler.is_displayed()
        assert sized.find_element(By.ID, "nav-executive").is_displayed()
    overflow = sized.execute_script("return [document.documentElement.scrollWidth, window.innerWidth]")
    assert overflow[0] <= overflow[1], overflow
    # The key column stays pinned, so the account is always in view.
    assert sized.find_elements(By.CSS_SELECTOR, f"#{ID.TOP_ACCOUNTS_GRID} .ag-pinned-left-cols-container .ag-row")
    assert sized.find_element(By.ID, "page-copy-link").is_displayed()
    assert_no_error(sized)


def test_a_churn_chip_explains_itself_and_a_row_opens_the_account(sized, live_server):
    sign_in(sized, live_server, "executive")
    open_page(sized, live_server)
    chip_selector = f"#{ID.TOP_ACCOUNTS_GRID} .ag-row[row-index='0'] .c360-chip"
    wait(sized).until(ec.presence_of_element_located((By.CSS_SELECTOR, chip_selector)))

    def clicked_chip(browser) -> bool:
        # On a phone the chip column is scrolled off to the right of the pinned account column, and
        # panels still drawing above the grid can move it; the click is dispatched on the chip
        # itself once it is displayed, as ag-grid's cell listener receives a tap.
        chip = browser.find_element(By.CSS_SELECTOR, chip_selector)
        browser.execute_script("arguments[0].scrollIntoView({block: 'center', inline: 'center', behavior: 'instant'});", chip)
        if not chip.is_displayed():
            return False
        browser.execute_script("arguments[0].click();", chip)
        return True

    wait(sized).until(clicked_chip)
    wait(sized).until(ec.visibility_of_element_located((By.ID, ID.CHIP_BODY)))
    body = sized.find_element(By.ID, ID.CHIP_BODY).text
    assert "churn" in body.lower() or "scored" in body.lower()
    sized.find_element(By.CSS_SELECTOR, f"#{ID.CHIP_MODAL} .btn-close").click()
    wait(sized).until(ec.invisibility_of_element_located((By.ID, ID.CHIP_BODY)))

    cell = sized.find_element(By.CSS_SELECTOR, f"#{ID.TOP_ACCOUNTS_GRID} .ag-row[row-index='0'] [col-id='region']")
    ActionChains(sized).move_to_element(cell).click().perform()
    wait(sized).until(lambda b: urlparse(b.current_url).path.startswith("/accounts/"))
    assert_no_error(sized)


def _plot_trace_names(browser, graph_container: str) -> list[str]:
    return browser.execute_script(
        "const g = document.querySelector(arguments[0]); return g && g.data ? g.data.map(t => t.name) : [];",
        f"#{graph_container} .js-plotly-plot") or []


def test_the_outlook_headline_forecast_risk_bars_and_accounts_at_risk(sized, live_server, insights_ran):
    """To the latest day: the headline reads, the MRR trend continues with its forecast, a click on
    the HIGH churn bar lists its accounts (and a deep link shows them again), and a row of the top
    accounts at risk opens the customer."""
    with db.session() as session:
        last = q.data_date_bounds(session).last
    sign_in(sized, live_server, "executive")
    open_page(sized, live_server, f"start=2026-10-25&end={last.isoformat()}")
    wait(sized).until(ec.text_to_be_present_in_element((By.ID, ID.HEADLINE), "Today: MRR"))
    wait(sized).until(lambda b: "Forecast" in _plot_trace_names(b, ID.MRR_TREND))
    wait(sized).until(ec.presence_of_element_located((By.CSS_SELECTOR, f"#{ID.MRR_MOVEMENT} .js-plotly-plot")))
    assert "Why MRR moved" in sized.find_element(By.ID, ID.MRR_MOVEMENT).text
    wait(sized).until(ec.presence_of_element_located((By.CSS_SELECTOR, f"#{ID.AT_RISK_GRID} .ag-row[row-index='9']")))

    def clicked_bar(browser) -> bool:
        bars = browser.find_elements(By.CSS_SELECTOR, f"#{ID.RISK_CHURN_GRAPH} .barlayer .point path")
        if not bars:
            return False
        browser.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'});", bars[0])
        ActionChains(browser).move_to_element(bars[0]).click().perform()
        return search(browser).get("segment") == ["churn:HIGH"]

    wait(sized).until(clicked_bar)
    wait(sized).until(ec.text_to_be_present_in_element((By.ID, ID.RISK_BREADCRUMB), "High churn risk"))
    wait(sized).until(ec.presence_of_element_located((By.CSS_SELECTOR, f"#{ID.SEGMENT_GRID} .ag-row")))
    sized.get(sized.current_url)  # the deep link shows the same accounts
    wait(sized).until(ec.presence_of_element_located((By.CSS_SELECTOR, f"#{ID.SEGMENT_GRID} .ag-row")))
    assert sized.execute_script("return document.documentElement.scrollWidth <= window.innerWidth + 1")

    cell = wait(sized).until(ec.presence_of_element_located(
        (By.CSS_SELECTOR, f"#{ID.AT_RISK_GRID} .ag-row[row-index='0'] [col-id='account_name']")))
    sized.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'});", cell)
    account_id = cell.find_element(By.XPATH, "./ancestor::*[@row-id][1]").get_attribute("row-id")
    sized.execute_script("arguments[0].click();", cell)
    wait(sized).until(lambda b: urlparse(b.current_url).path == f"/accounts/{account_id}")
    assert_no_error(sized)
