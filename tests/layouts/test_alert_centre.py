"""The alert centre in a browser: the bell counts the open alerts in the user's scope, the panel
lists them, and acknowledging one lowers the count and leaves an audit row."""

from __future__ import annotations

import pytest
from selenium.common.exceptions import ElementClickInterceptedException, StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import select, text

from dashboard.extensions import db
from dashboard.tables.app import AuditEvent
from layouts.alert_centre import ID
from tests.layouts.test_pages import TIMEOUT, sign_in, wait

OPEN_IN_SCOPE = """
    SELECT count(*) FROM gold.alert a JOIN gold.customer_360 c ON c.account_id = a.account_id
    WHERE a.status = 'open'
"""


def _open_alerts() -> int:
    with db.session() as session:
        return int(session.scalar(text(OPEN_IN_SCOPE)))


def _bell_count(browser) -> int | bool:
    raw = (browser.execute_script("const e = document.getElementById(arguments[0]); return e ? e.textContent : '';",
                                  ID.COUNT) or "").strip().replace(",", "")
    return int(raw) if raw.isdigit() else False


@pytest.fixture()
def restore_alert():
    """Puts an alert acknowledged by the test back as it was, for the rest of the session."""
    changed: list[int] = []
    yield changed
    with db.begin() as session:
        for alert_id in changed:
            session.execute(text("UPDATE gold.alert SET status = 'open', acknowledged_by = NULL "
                                 "WHERE alert_id = :id"), {"id": alert_id})


def test_bell_counts_open_alerts_and_acknowledging_one_lowers_it(browser, live_server, scored,  # noqa: F811
                                                                 restore_alert):
    expected = _open_alerts()
    assert expected > 0, "the scoring job raised no open alert"
    sign_in(browser, live_server, "support_lead")  # unrestricted scope, may act on alerts
    wait(browser).until(lambda b: _bell_count(b) == expected)

    browser.find_element(By.ID, ID.BELL).click()
    wait(browser).until(ec.visibility_of_element_located((By.CSS_SELECTOR, f"#{ID.LIST} .{ID.ITEM}")))
    # Read and click through fresh look-ups: opening the panel reloads the list under the pointer.
    alert_id = int(wait(browser).until(lambda b: b.find_element(By.CSS_SELECTOR, f"#{ID.LIST} .{ID.ITEM}")
                                       .get_attribute("data-alert-id")))
    item = f"#{ID.LIST} [data-alert-id='{alert_id}']"
    wait(browser).until(lambda b: "opened" in b.find_element(By.CSS_SELECTOR, item).text
                        and b.find_elements(By.CSS_SELECTOR, f"{item} .badge"))
    restore_alert.append(alert_id)
    acknowledge = f"//*[@data-alert-id='{alert_id}']//button[normalize-space()='Acknowledge']"
    WebDriverWait(browser, TIMEOUT, ignored_exceptions=(StaleElementReferenceException,
                                                        ElementClickInterceptedException)).until(
        lambda b: b.find_element(By.XPATH, acknowledge).click() or True)

    wait(browser).until(lambda b: _bell_count(b) == expected - 1)
    wait(browser).until(ec.text_to_be_present_in_element((By.ID, ID.MESSAGE), "Acknowledged"))
    assert _open_alerts() == expected - 1
    with db.session() as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "alert_status")
                                .order_by(AuditEvent.id.desc()).limit(1)).one()
    assert event.actor == "support_lead@test.client360.dev"
    assert event.detail["alert_id"] == alert_id and event.detail["status"] == "acknowledged"


def test_a_role_without_customer_views_has_no_bell(browser, live_server):
    sign_in(browser, live_server, "marketing_manager")
    assert not browser.find_elements(By.ID, ID.BELL)
