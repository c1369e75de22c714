"""Campaigns in a real browser, at desktop (1440x900) and phone (390x844) widths: a marketing manager
signs in and lands on /marketing, every panel fills with figures, SMS reads "no read receipts", nothing is
wider than a phone, a new period writes the URL and changes the figures, and adding a campaign to the
comparison writes the URL and redraws the side by side. Explicit waits only, no sleeps."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import parse_qs, urlparse

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as ec

from layouts.campaigns import PANELS
from layouts.campaigns import CampaignsIds as ID
from tests.layouts.test_morning_coffee import SIZES, assert_no_error
from tests.layouts.test_pages import sign_in, wait

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def attributed(loaded_database):
    from etl.insights.attribution import run_attribution

    run_attribution(loaded_database, triggered_by="test")
    return loaded_database


@pytest.fixture(params=list(SIZES))
def sized(browser, request, attributed):
    width, height = SIZES[request.param]
    browser.set_window_size(width, height)
    yield browser
    browser.set_window_size(1400, 1000)


def _filled(browser) -> bool:
    texts = browser.execute_script(
        "return arguments[0].map(id => { const e = document.getElementById(id); "
        "return e && !e.querySelector('.c360-skeleton') ? e.innerText : ''; });", list(PANELS))
    return all(any(ch.isdigit() for ch in text) for text in texts)


def _compared(browser) -> list[str]:
    return parse_qs(urlparse(browser.current_url).query).get("compare", [])


def _period(browser) -> list[str]:
    return parse_qs(urlparse(browser.current_url).query).get("period", [])


def _header(browser) -> str:
    return browser.find_element(By.CSS_SELECTOR, f"#{ID.PAGE} .c360-page-header p").text


def test_the_marketing_manager_lands_on_campaigns_and_every_panel_fills(sized, live_server):
    sign_in(sized, live_server, "marketing_manager")
    wait(sized).until(lambda b: urlparse(b.current_url).path == "/marketing")
    wait(sized).until(_filled)
    assert "(last year, " in _header(sized) and " 2026 " in _header(sized)
    assert "no read receipts" in sized.find_element(By.ID, ID.FUNNEL).text
    assert "Best time" in sized.find_element(By.ID, ID.SEND_TIME).text
    assert "Markov" in sized.find_element(By.ID, ID.ATTRIBUTION).text
    verdicts = sized.find_element(By.ID, ID.AB).text
    assert "beats" in verdicts or "no difference" in verdicts or "stop:" in verdicts
    overflow = sized.execute_script("return [document.documentElement.scrollWidth, window.innerWidth]")
    wide = sized.execute_script(
        "return Array.from(document.querySelectorAll('body *')).filter(e => e.getBoundingClientRect().right > "
        "window.innerWidth + 1).slice(0, 12).map(e => e.tagName + '#' + e.id + '.' + e.className + ' ' + "
        "Math.round(e.getBoundingClientRect().left) + '-' + Math.round(e.getBoundingClientRect().right));")
    assert overflow[0] <= overflow[1] + 1, (overflow, wide)
    assert_no_error(sized)


def test_adding_a_campaign_to_the_comparison_writes_the_url(sized, live_server):
    sign_in(sized, live_server, "marketing_manager")
    sized.get(f"{live_server}/marketing?period=all&compare=CMP-0002&compare=CMP-0003")
    wait(sized).until(_filled)
    assert "CMP-0002" in sized.find_element(By.ID, ID.COMPARE).text
    assert "CMP-0001" not in sized.find_element(By.ID, ID.COMPARE).text
    picker = sized.find_element(By.ID, ID.COMPARE_PICK)
    sized.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'});", picker)
    picker.click()
    option = wait(sized).until(ec.element_to_be_clickable(
        (By.XPATH, "//*[contains(@class,'dash-dropdown-option')][starts-with(normalize-space(), 'CMP-0001 ')]")))
    option.click()
    ActionChains(sized).send_keys(Keys.ESCAPE).perform()
    wait(sized).until(lambda b: _compared(b) == ["CMP-0002", "CMP-0003", "CMP-0001"])
    assert _period(sized) == ["all"]
    wait(sized).until(ec.text_to_be_present_in_element((By.ID, ID.COMPARE), "CMP-0001"))
    wait(sized).until(_filled)
    assert "3 campaigns" in sized.find_element(By.ID, ID.COMPARE).text
    assert_no_error(sized)


def test_a_new_period_writes_the_url_and_changes_the_figures(browser, live_server, attributed):
    sign_in(browser, live_server, "marketing_manager")
    browser.get(f"{live_server}/marketing?period=all")
    wait(browser).until(_filled)
    everything = browser.find_element(By.ID, ID.KPIS).text
    assert "(everything, " in _header(browser)
    # marketing_manager has no view_pii: the high-intent emails are masked (the small data's contacts who
    # replied more than 3 times did so over every period, not the last year).
    assert "***@" in browser.find_element(By.ID, ID.HIGH_INTENT).text
    last_30_days = browser.find_element(By.CSS_SELECTOR, f"#{ID.PERIOD} input[value='30d']")
    browser.execute_script("arguments[0].click();", last_30_days)
    wait(browser).until(lambda b: _period(b) == ["30d"])
    wait(browser).until(lambda b: "(last 30 days, " in _header(b))
    wait(browser).until(_filled)
    wait(browser).until(lambda b: b.find_element(By.ID, ID.KPIS).text != everything)
    # 30 days back from the newest send day, which the header names: "25 Oct \u2013 23 Nov 2026".
    dates = _header(browser).split(" (")[0]
    first, last = (datetime.strptime(part if part.count(" ") == 2 else f"{part} {dates[-4:]}", "%d %b %Y")
                   for part in dates.split(" \u2013 "))
    assert (last - first).days == 29
    browser.back()
    wait(browser).until(lambda b: "(everything, " in _header(b))
    wait(browser).until(lambda b: b.find_element(By.ID, ID.KPIS).text == everything)
    browser.get(f"{live_server}/marketing?period=last-decade")
    wait(browser).until(ec.text_to_be_present_in_element((By.ID, ID.NOTE), "The period can be"))
    assert "(last year, " in _header(browser)
    assert_no_error(browser)


def test_a_support_lead_is_refused_the_page(browser, live_server, attributed):
    sign_in(browser, live_server, "support_lead")
    browser.get(f"{live_server}/marketing")
    wait(browser).until(ec.presence_of_element_located((By.ID, "forbidden-page")))
    assert not browser.find_elements(By.ID, ID.FUNNEL)
