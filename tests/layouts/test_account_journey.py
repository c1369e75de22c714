"""The Customer 360 Journey and People & feedback pages in a real browser at 1440x900 and 390x844:
a type filter writes the URL and a deep link reproduces it, a ticket opens its thread in the
side panel, and a role without view_pii sees masked contacts. Explicit waits only."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest
from selenium.common.exceptions import (
    ElementClickInterceptedException,
    NoSuchElementException,
    StaleElementReferenceException,
)
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from sqlalchemy import text

from dashboard.extensions import db
from dashboard.queries.account_journey import EVENT_CATEGORIES
from layouts.account_journey import JourneyIds as ID
from layouts.account_people import PeopleIds
from tests.layouts.test_pages import sign_in, wait

pytestmark = pytest.mark.browser

SIZES = {"desktop": (1440, 900), "phone": (390, 844)}
CATEGORY = "support"


@pytest.fixture(params=list(SIZES))
def sized(browser, request, insights_ran):  # noqa: F811
    width, height = SIZES[request.param]
    browser.set_window_size(width, height)
    yield browser
    browser.set_window_size(1400, 1000)


@pytest.fixture(scope="module")
def account_id(app, insights_ran) -> str:  # noqa: F811
    """The customer with the most P1 (not escalated) tickets in the last year: support events to filter."""
    with db.session() as session:
        found = session.scalar(text("""
            SELECT e.customer_id FROM gold.timeline_events e
            JOIN silver.tickets t ON e.event_id = 'ticket:' || t.ticket_id
            WHERE NOT COALESCE(t.is_escalated, false)
              AND e.event_date > (SELECT max(day) FROM gold.daily_kpi) - 365
            GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1"""))
    assert found is not None, "no customer has a support event in the last year"
    return found


def categories_shown(browser) -> list[str]:
    return browser.execute_script(
        "return Array.from(document.querySelectorAll(arguments[0])).map(e => e.dataset.category);",
        f"#{ID.TIMELINE} .c360-event")


def click_when_free(browser, selector: str, by: str = By.CSS_SELECTOR) -> bool:
    """Click the element once nothing (a loading overlay settling, a re-render) covers it.

    The scroll is instant: the stylesheet scrolls smoothly, and a click during the animation lands
    where the element is not yet."""
    try:
        element = browser.find_element(by, selector)
        browser.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'});", element)
        element.click()
    except (ElementClickInterceptedException, StaleElementReferenceException, NoSuchElementException):
        return False
    return True


def assert_fits_and_no_error(browser) -> None:
    assert not browser.find_elements(By.CSS_SELECTOR, ".c360-error-state")
    assert "Traceback" not in browser.page_source
    width, inner = browser.execute_script("return [document.documentElement.scrollWidth, window.innerWidth]")
    assert width <= inner, (width, inner)


def test_filter_by_type_writes_the_url_deep_link_reproduces_and_a_ticket_opens(sized, live_server, account_id):
    sign_in(sized, live_server, "support_lead")
    page = f"{live_server}/accounts/{account_id}/journey"
    sized.get(page)
    wait(sized).until(lambda b: len(categories_shown(b)) > 0)
    wait(sized).until(lambda b: b.find_elements(By.CSS_SELECTOR, f"#{ID.MRR} .c360-chart-card"))
    assert_fits_and_no_error(sized)

    label = f"//*[@id='{ID.TYPES}']//label[normalize-space()='{EVENT_CATEGORIES[CATEGORY]}']"
    wait(sized).until(lambda b: click_when_free(b, label, By.XPATH))
    wait(sized).until(lambda b: parse_qs(urlparse(b.current_url).query).get("type") == [CATEGORY])
    wait(sized).until(lambda b: (shown := categories_shown(b)) and set(shown) == {CATEGORY})
    filtered_url = sized.current_url

    # A deep link reproduces the view: the same box ticked, only that type listed.
    sized.get(live_server + "/")
    sized.get(filtered_url)
    wait(sized).until(lambda b: (shown := categories_shown(b)) and set(shown) == {CATEGORY})
    checked = sized.execute_script(
        "return Array.from(document.querySelectorAll(arguments[0])).filter(i => i.checked).length;",
        f"#{ID.TYPES} input[type=checkbox]")
    assert checked == 1

    wait(sized).until(lambda b: click_when_free(b, f"#{ID.TIMELINE} .c360-event-open"))
    wait(sized).until(ec.visibility_of_element_located((By.ID, "aj-ticket-detail")))
    assert sized.find_element(By.CSS_SELECTOR, f"#{ID.DETAIL} .offcanvas-title").text.startswith("Ticket ")
    assert_fits_and_no_error(sized)


def test_people_page_masks_contacts_for_a_role_without_view_pii(sized, live_server, account_id):
    with db.session() as session:
        person = session.execute(text("""
            SELECT a.master_account_id, c.email FROM silver.contacts c
            JOIN silver.account_master a ON a.account_id = c.account_id
            JOIN gold.contact_engagement e ON e.account_id = a.master_account_id
            WHERE c.email IS NOT NULL GROUP BY 1, 2 ORDER BY count(*) DESC, 1, 2 LIMIT 1""")).one()
    sign_in(sized, live_server, "executive")  # no view_pii
    sized.get(f"{live_server}/accounts/{person.master_account_id}/people")
    table = wait(sized).until(ec.presence_of_element_located((By.ID, "ap-contacts-table")))
    emails = [e.text for e in table.find_elements(By.CSS_SELECTOR, ".c360-contact-email") if e.text]
    assert emails and all("***@" in e for e in emails)
    assert person.email not in sized.page_source
    wait(sized).until(lambda b: b.find_elements(By.CSS_SELECTOR, f"#{PeopleIds.LINKED} #ap-linked-table"))
    assert not sized.find_element(By.ID, PeopleIds.LINK_FORM).is_displayed()  # not an administrator
    assert_fits_and_no_error(sized)
