"""From search to journey in a real browser at desktop (1440x900) and phone (390x844) widths: an
account manager types part of a customer's name in the navbar search, picks the suggestion, lands
on the Customer 360 page with every section filled, executes an action, opens the Journey tab and
finds that action on the timeline."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec

from dashboard.extensions import db
from dashboard.tables.gold import Customer360
from dashboard.tables.intelligence import NextBestAction
from layouts.account_journey import ID as JOURNEY
from layouts.customer360 import ID
from layouts.search import ID as SEARCH
from layouts.shell import NAVBAR_TOGGLER_ID
from tests.layouts.test_customer360 import BOOK_OWNER, _click, _filled, _text, book, restore_actions, sized  # noqa: F401
from tests.layouts.test_pages import sign_in, wait

pytestmark = pytest.mark.browser

def _search_box(browser):
    """The navbar's search input, opening the collapsed menu first at phone width."""
    box = browser.find_element(By.ID, SEARCH.INPUT)
    if not box.is_displayed():
        _click(browser, f"#{NAVBAR_TOGGLER_ID}")
    return wait(browser).until(ec.visibility_of_element_located((By.ID, SEARCH.INPUT)))


def test_search_open_execute_and_see_it_on_the_journey(browser, live_server, sized, book,  # noqa: F811
                                                       restore_actions):  # noqa: F811
    account_id, _ = book
    with db.session() as session:
        name = session.get(Customer360, account_id).account_name
    fragment = max(name.split(), key=len)[:8]  # part of the name, not all of it
    assert len(fragment) >= 3
    sign_in(browser, live_server, BOOK_OWNER)

    _search_box(browser).send_keys(fragment)
    suggestion = f"#{SEARCH.SUGGESTIONS} a.{SEARCH.SUGGESTION}[href$='/accounts/{account_id}']"
    wait(browser).until(ec.visibility_of_element_located((By.CSS_SELECTOR, suggestion)))
    assert name in _text(browser, suggestion)
    _click(browser, suggestion)
    wait(browser).until(lambda b: b.current_url.endswith(f"/accounts/{account_id}"))

    wait(browser).until(_filled)
    assert not browser.find_elements(By.CSS_SELECTOR, ".c360-error-state")
    assert name in _text(browser, f"#{ID.HEADER}")
    assert "$" in _text(browser, f"#{ID.KPI_MRR} .c360-kpi-value")
    assert "Top factors" in _text(browser, f"#{ID.RISK}")
    assert browser.find_elements(By.CSS_SELECTOR, f"#{ID.ALERTS} .{ID.ALERT_ITEM}")
    assert browser.find_elements(By.CSS_SELECTOR, f"#{ID.ACTIONS} .{ID.ACTION_ITEM}")

    first = f"#{ID.ACTIONS} .{ID.ACTION_ITEM}[data-status='open']"
    action_id = wait(browser).until(lambda b: b.find_element(By.CSS_SELECTOR, first).get_attribute("data-action-id"))
    with db.session() as session:
        title = session.get(NextBestAction, action_id).action_title
    _click(browser, f"[data-action-id='{action_id}'] .btn-success")  # Execute
    wait(browser).until(lambda b: b.find_elements(
        By.CSS_SELECTOR, f"#{ID.ACTIONS} [data-action-id='{action_id}'][data-status='executed']"))

    _click(browser, f"#{ID.TABS}-journey")
    wait(browser).until(lambda b: b.current_url.split("?")[0].endswith(f"/accounts/{account_id}/journey"))
    # Newest first: the action just taken, by this user, is on the first page of the timeline.
    taken = f"#{JOURNEY.TIMELINE} [data-category='action']"
    wait(browser).until(lambda b: any(f"Action taken: {title}" in e.text and BOOK_OWNER in e.text
                                      for e in b.find_elements(By.CSS_SELECTOR, taken)))
    if sized == "phone":  # the timeline fits the screen: no sideways scrolling
        assert browser.execute_script("return document.documentElement.scrollWidth") <= 390 + 1
