"""Receivables in a real browser, at desktop (1440x900) and phone (390x844) widths: the billing user signs
in and lands on the page, every panel fills with figures, a click on an ageing bucket lists its invoices
(and writes the URL), a customer row opens its Customer 360 page, and nothing is wider than a phone.
Explicit waits only, no sleeps."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec

from layouts.receivables import PANELS, bucket_id
from layouts.receivables import ReceivablesIds as ID
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


def _click(browser, element) -> None:
    browser.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'});", element)
    ActionChains(browser).move_to_element(element).click().perform()


def test_billing_lands_here_clicks_a_bucket_and_opens_a_customer(sized, live_server):
    sign_in(sized, live_server, "billing")
    wait(sized).until(lambda b: urlparse(b.current_url).path == "/billing")
    wait(sized).until(_filled)
    assert "credit hold" in sized.find_element(By.ID, ID.HOLDS).text.lower()
    assert "affected customers" in sized.find_element(By.ID, ID.ACCURACY).text.lower()
    assert sized.find_elements(By.CSS_SELECTOR, f"#{ID.ACCURACY_GRAPH} .js-plotly-plot")
    assert "next 30 days" in sized.find_element(By.ID, ID.COLLECTIONS).text.lower()
    overflow = sized.execute_script("return [document.documentElement.scrollWidth, window.innerWidth]")
    wide = sized.execute_script(
        "return Array.from(document.querySelectorAll('body *')).filter(e => e.getBoundingClientRect().right > "
        "window.innerWidth + 1).slice(0, 12).map(e => e.tagName + '#' + e.id + '.' + e.className + ' ' + "
        "Math.round(e.getBoundingClientRect().left) + '-' + Math.round(e.getBoundingClientRect().right));")
    assert overflow[0] <= overflow[1] + 1, (overflow, wide)

    # The oldest bucket: the demo data always has invoices over 90 days overdue.
    _click(sized, sized.find_element(By.ID, bucket_id("90+")))
    wait(sized).until(lambda b: parse_qs(urlparse(b.current_url).query).get("bucket") == ["90+"])
    # The heading first: the grid of every overdue invoice starts with 90+ ones too.
    wait(sized).until(ec.text_to_be_present_in_element((By.ID, ID.AGEING), "Invoices 90+ days overdue"))
    cells = f"#{ID.INVOICES_GRID} .ag-row [col-id='bucket']"
    wait(sized).until(ec.presence_of_element_located((By.CSS_SELECTOR, cells)))
    wait(sized).until(lambda b: {c.get_attribute("textContent") for c in b.find_elements(By.CSS_SELECTOR, cells)}
                      == {"90+"})

    selector = f"#{ID.OVERDUE_GRID} .ag-row[row-index='0'] [col-id='days_overdue']"
    wait(sized).until(ec.presence_of_element_located((By.CSS_SELECTOR, selector)))
    row_id = sized.execute_script(
        "return document.querySelector(arguments[0]).closest('.ag-row').getAttribute('row-id');", selector)
    _click(sized, sized.find_element(By.CSS_SELECTOR, selector))
    wait(sized).until(lambda b: urlparse(b.current_url).path == f"/accounts/{row_id}")
    assert_no_error(sized)


def test_a_bad_bucket_falls_back_and_the_executive_sees_the_page(browser, live_server):
    sign_in(browser, live_server, "executive")
    browser.get(f"{live_server}/billing?bucket=nonsense")
    wait(browser).until(ec.text_to_be_present_in_element((By.ID, ID.NOTE), "every overdue invoice"))
    wait(browser).until(_filled)
    assert_no_error(browser)


def test_a_marketing_manager_is_refused_the_page(browser, live_server):
    sign_in(browser, live_server, "marketing_manager")
    browser.get(f"{live_server}/billing")
    wait(browser).until(ec.presence_of_element_located((By.ID, "forbidden-page")))
    assert not browser.find_elements(By.ID, ID.AGEING)
