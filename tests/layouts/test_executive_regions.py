"""Regional analysis in a real browser, at desktop (1440x900) and phone (390x844) widths: an
executive opens the page and its panels fill, a region's bar drills to its territories and the
URL says so, the breadcrumb leads back, a deep link reproduces the view, the grid exports
through the server, and nothing scrolls sideways on a phone. Explicit waits only, no sleeps."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec

from layouts.executive_regions import RegionIds as ID
from tests.layouts import test_morning_coffee as morning_coffee
from tests.layouts.test_morning_coffee import assert_no_error, search
from tests.layouts.test_pages import sign_in, wait

pytestmark = pytest.mark.browser

PERIOD = "start=2026-07-01&end=2026-09-30"
sized = morning_coffee.sized  # the browser at desktop and phone widths


def categories(browser, graph_id: str) -> list[str]:
    """The category labels of a comparison chart's bars (the selected period's trace)."""
    return browser.execute_script(
        "const g = document.querySelector(arguments[0]); return g && g.data ? g.data[2].y : null;",
        f"#{graph_id} .js-plotly-plot") or []


def grid_members(browser) -> list[str]:
    return browser.execute_script(
        "return [...document.querySelectorAll(arguments[0])].map(e => e.textContent.trim());",
        f"#{ID.COMPARISON_GRID} .ag-pinned-left-cols-container .ag-row [col-id='member']")


def open_page(browser, live_server: str, query: str = PERIOD) -> list[str]:
    """Open the page and wait for the revenue chart and the grid; the regions shown."""
    browser.get(f"{live_server}/executive/regions?{query}")
    shown = wait(browser).until(lambda b: (c := categories(b, ID.REVENUE_GRAPH)) and c)
    wait(browser).until(lambda b: len(grid_members(b)) == len(shown))
    wait(browser).until(ec.presence_of_element_located((By.CSS_SELECTOR, f"#{ID.PRODUCT_MIX} .js-plotly-plot")))
    return shown


def test_a_region_drills_to_its_territories_and_back(sized, live_server):
    sign_in(sized, live_server, "executive")
    regions_shown = open_page(sized, live_server)
    assert len(regions_shown) >= 2
    assert sized.find_element(By.ID, ID.PERIOD_LABEL).text.startswith("1 Jul 2026 \u2013 30 Sep 2026")
    assert categories(sized, ID.CUSTOMERS_GRAPH) == regions_shown
    target = regions_shown[-1]  # Plotly draws the first category at the bottom: the largest is on top
    bars = sized.find_elements(By.CSS_SELECTOR, f"#{ID.REVENUE_GRAPH} .barlayer .trace:last-child .point")
    ActionChains(sized).move_to_element(bars[-1]).click().perform()
    wait(sized).until(lambda b: search(b).get("region") == [target])
    wait(sized).until(ec.text_to_be_present_in_element((By.ID, ID.REVENUE), f"Revenue in {target} by territory"))
    territories = wait(sized).until(lambda b: (c := categories(b, ID.REVENUE_GRAPH)) and c != regions_shown and c)
    assert not set(territories) & set(regions_shown)
    wait(sized).until(lambda b: sorted(grid_members(b)) == sorted(territories))
    crumb = wait(sized).until(ec.element_to_be_clickable((By.CSS_SELECTOR, f"#{ID.BREADCRUMB} a")))
    assert crumb.text == "All regions"
    crumb.click()
    wait(sized).until(lambda b: "region" not in search(b))
    wait(sized).until(lambda b: categories(b, ID.REVENUE_GRAPH) == regions_shown)
    # No page scrolls sideways: the grid scrolls inside its card.
    overflow = sized.execute_script("return [document.documentElement.scrollWidth, window.innerWidth]")
    assert overflow[0] <= overflow[1], overflow
    assert_no_error(sized)


def test_a_deep_link_reproduces_the_view_and_the_grid_exports(sized, live_server):
    sign_in(sized, live_server, "executive")
    regions_shown = open_page(sized, live_server, f"{PERIOD}&view=regional")
    target = regions_shown[-1]
    territories = open_page(sized, live_server, f"{PERIOD}&view=regional&region={target}")
    assert search(sized) == {"start": ["2026-07-01"], "end": ["2026-09-30"], "view": ["regional"],
                             "region": [target]}
    checked = sized.find_element(By.CSS_SELECTOR, f"#{ID.VIEW} input:checked").get_attribute("value")
    assert checked == "regional"
    assert target in sized.find_element(By.ID, ID.BREADCRUMB).text
    export = sized.find_element(By.ID, f"{ID.COMPARISON}-export-csv").get_attribute("href")
    assert urlparse(export).path == f"/export/{ID.COMPARISON}.csv"
    assert parse_qs(urlparse(export).query)["region"] == [target]
    status, content_type, body = sized.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "fetch(arguments[0], {credentials: 'same-origin'})"
        ".then(r => r.text().then(t => done([r.status, r.headers.get('content-type'), t])))", export)
    assert status == 200 and content_type.startswith("text/csv")
    lines = [line for line in body.splitlines() if line.strip()]
    assert lines[0].startswith("Territory,Revenue") and len(lines) == len(territories) + 1
    assert_no_error(sized)
