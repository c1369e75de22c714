"""Growth in a real browser, at desktop (1440x900) and phone (390x844) widths: an executive and a
marketing manager open the page, every panel fills with figures, the map draws, the segments show
their definitions, bars and grid, the granularity and the attribute live in the URL, and nothing is
wider than a phone. Explicit waits only, no sleeps."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec

from layouts.growth import PANELS
from layouts.growth import GrowthIds as ID
from tests.layouts.test_morning_coffee import SIZES, assert_no_error
from tests.layouts.test_pages import sign_in, wait

pytestmark = pytest.mark.browser


@pytest.fixture(params=list(SIZES))
def sized(browser, request):
    width, height = SIZES[request.param]
    browser.set_window_size(width, height)
    yield browser
    browser.set_window_size(1400, 1000)


def _filled(browser) -> bool:
    texts = browser.execute_script(
        "return arguments[0].map(id => { const e = document.getElementById(id); "
        "return e && !e.querySelector('.c360-skeleton') ? e.innerText : ''; });", list(PANELS))
    return all(any(ch.isdigit() for ch in text) for text in texts)


def _map_drawn(browser) -> bool:
    # Plotly draws each country of a choropleth as a path under the geo layer.
    return browser.execute_script(
        "const m = document.getElementById(arguments[0]); "
        "return !!m && m.querySelectorAll('.geolayer path, .choroplethlocation').length > 0;", ID.MAP)


@pytest.mark.parametrize("role", ["executive", "marketing_manager"])
def test_every_panel_fills_the_map_draws_and_nothing_is_wider_than_the_screen(sized, live_server, role):
    sign_in(sized, live_server, role)
    sized.get(f"{live_server}/marketing/growth")
    wait(sized).until(_filled)
    wait(sized).until(_map_drawn)
    assert sized.find_elements(By.CSS_SELECTOR, f"#{ID.MAP} .choroplethlocation")
    assert "growth rate" in sized.find_element(By.ID, ID.VELOCITY).text.lower()
    assert sized.find_elements(By.CSS_SELECTOR, f"#{ID.COUNTRY_TABLE} tbody tr")
    wait(sized).until(lambda b: b.find_elements(By.CSS_SELECTOR, f"#{ID.SEGMENT_GRID} .ag-row"))
    segments = sized.find_element(By.ID, ID.SEGMENTS).text
    assert all(name in segments for name in ("VIP", "Lead", "Churned", "top 10% of paying customers"))
    assert sized.find_elements(By.CSS_SELECTOR, f"#{ID.SEGMENT_GRAPH} .bars path")
    overflow = sized.execute_script("return [document.documentElement.scrollWidth, window.innerWidth]")
    wide = sized.execute_script(
        "return Array.from(document.querySelectorAll('body *')).filter(e => e.getBoundingClientRect().right > "
        "window.innerWidth + 1).slice(0, 12).map(e => e.tagName + '#' + e.id + '.' + e.className + ' ' + "
        "Math.round(e.getBoundingClientRect().left) + '-' + Math.round(e.getBoundingClientRect().right));")
    assert overflow[0] <= overflow[1] + 1, (overflow, wide)
    assert_no_error(sized)


def test_the_granularity_is_in_the_url(browser, live_server):
    sign_in(browser, live_server, "marketing_manager")
    browser.get(f"{live_server}/marketing/growth?grain=month")
    wait(browser).until(_filled)
    assert "per month" in browser.find_element(By.ID, ID.VELOCITY).text
    browser.get(f"{live_server}/marketing/growth?grain=nonsense")
    wait(browser).until(ec.text_to_be_present_in_element((By.ID, ID.NOTE), "day, week or month"))
    wait(browser).until(_filled)
    assert "per week" in browser.find_element(By.ID, ID.VELOCITY).text
    browser.get(f"{live_server}/marketing/growth?segment=persona")
    wait(browser).until(_filled)
    wait(browser).until(ec.text_to_be_present_in_element((By.ID, ID.SEGMENT_GRID), "persona = "))
    browser.get(f"{live_server}/marketing/growth?segment=nonsense")
    wait(browser).until(ec.text_to_be_present_in_element((By.ID, ID.SEGMENTS), "nonsense"))
    assert_no_error(browser)


def test_a_support_lead_cannot_open_the_page(browser, live_server):
    sign_in(browser, live_server, "support_lead")
    browser.get(f"{live_server}/marketing/growth")
    wait(browser).until(ec.presence_of_element_located((By.ID, "forbidden-page")))
    assert not browser.find_elements(By.ID, ID.VELOCITY)
