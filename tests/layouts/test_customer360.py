"""The Customer 360 overview in a real browser at desktop (1440x900) and phone (390x844) widths:
an account manager opens a customer of their book and sees every section filled, executes an
action and sees its status change; a customer outside their scope is the plain 404; a support
lead (no financials) sees money as bands."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from sqlalchemy import select, text

from dashboard.extensions import db
from dashboard.tables.gold import Customer360
from dashboard.tables.intelligence import NextBestAction
from layouts.customer360 import ID, KPI_CARDS
from tests.dashboard.queries.test_customer360 import PICK_ACCOUNT
from tests.dashboard.security.scoped_users import _ensure_user
from tests.layouts.test_pages import sign_in, wait

pytestmark = pytest.mark.browser

SIZES = {"desktop": (1440, 900), "phone": (390, 844)}
BOOK_OWNER = "c360-book"  # signs in as c360-book@test.client360.dev


@pytest.fixture(params=list(SIZES))
def sized(browser, request):
    width, height = SIZES[request.param]
    browser.set_window_size(width, height)
    yield request.param
    browser.set_window_size(1400, 1000)


@pytest.fixture(scope="module")
def book(app, insights_ran) -> tuple[str, str]:  # noqa: F811
    """An account manager whose book holds one customer with actions and alerts, and a customer outside it."""
    with db.session() as session:
        account_id = session.scalar(text(PICK_ACCOUNT))
        other = session.scalar(select(Customer360.account_id).where(Customer360.account_id != account_id).limit(1))
    assert account_id and other
    _ensure_user(f"{BOOK_OWNER}@test.client360.dev", "account_manager", [], [account_id])
    return account_id, other


@pytest.fixture()
def restore_actions(book):
    """Puts the customer's actions back as they were, for the rest of the session."""
    with db.session() as session:
        before = dict(session.execute(select(NextBestAction.recommendation_id, NextBestAction.status)
                                      .where(NextBestAction.customer_id == book[0])).all())
    yield
    with db.begin() as session:
        for action_id, status in before.items():
            session.execute(text("UPDATE gold.next_best_action SET status = :s WHERE recommendation_id = :id"),
                            {"s": status, "id": action_id})


def _text(browser, selector: str) -> str:
    return browser.execute_script("const e = document.querySelector(arguments[0]); return e ? e.innerText : '';",
                                  selector) or ""


def _click(browser, selector: str) -> None:
    """Click through JavaScript after scrolling into view: a fixed navbar may cover the button at phone width."""
    element = wait(browser).until(lambda b: b.find_element(By.CSS_SELECTOR, selector))
    browser.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'}); arguments[0].click();", element)


def _filled(browser) -> bool:
    """Every KPI card and panel has its content (no skeleton left)."""
    cards = all(_text(browser, f"#{card_id} .c360-kpi-title") for card_id in KPI_CARDS)
    panels = all(_text(browser, f"#{panel} .card-body") for panel in (ID.RISK, ID.ALERTS, ID.ACTIONS))
    return cards and panels and not browser.find_elements(By.CSS_SELECTOR, f"#{ID.PAGE} .c360-skeleton")


def test_account_manager_sees_every_section_and_executes_an_action(browser, live_server, sized, book,
                                                                   restore_actions):
    account_id, _ = book
    sign_in(browser, live_server, BOOK_OWNER)
    browser.get(f"{live_server}/accounts/{account_id}")
    wait(browser).until(_filled)
    assert not browser.find_elements(By.CSS_SELECTOR, ".c360-error-state")
    header = _text(browser, f"#{ID.HEADER}")
    with db.session() as session:
        assert session.get(Customer360, account_id).account_name in header
    assert "Overview" in header and "Journey" in header and "People" in header
    assert "$" in _text(browser, f"#{ID.KPI_MRR} .c360-kpi-value")
    assert "Top factors" in _text(browser, f"#{ID.RISK}") and "Payment (30 %)" in _text(browser, f"#{ID.RISK}")
    assert browser.find_elements(By.CSS_SELECTOR, f"#{ID.ALERTS} .{ID.ALERT_ITEM}")
    if sized == "phone":  # cards stack: one KPI card per row, no sideways scrolling
        lefts = {round(e.rect["x"]) for e in browser.find_elements(By.CSS_SELECTOR, ".c360-kpi-col")}
        assert len(lefts) == 1
        assert browser.execute_script("return document.documentElement.scrollWidth") <= 390 + 1

    browser.save_screenshot(f"/tmp/customer360_{sized}.png")
    first = f"#{ID.ACTIONS} .{ID.ACTION_ITEM}[data-status='open']"
    action_id = wait(browser).until(lambda b: b.find_element(By.CSS_SELECTOR, first).get_attribute("data-action-id"))
    _click(browser, f"[data-action-id='{action_id}'] .btn-outline-primary")  # Schedule: today, owner me
    wait(browser).until(ec.element_to_be_clickable((By.ID, ID.SCHEDULE_SUBMIT)))
    wait(browser).until(lambda b: "c360-book" in _text(b, f"#{ID.SCHEDULE_OWNER}"))
    _click(browser, f"#{ID.SCHEDULE_SUBMIT}")
    wait(browser).until(lambda b: b.find_elements(
        By.CSS_SELECTOR, f"#{ID.ACTIONS} [data-action-id='{action_id}'][data-status='scheduled']"))
    assert "Scheduled for" in _text(browser, f"#{ID.ACTIONS} [data-action-id='{action_id}']")
    wait(browser).until(ec.invisibility_of_element_located((By.ID, ID.SCHEDULE_MODAL)))
    _click(browser, f"[data-action-id='{action_id}'] .btn-success")  # Execute
    done = f"#{ID.ACTIONS} [data-action-id='{action_id}'][data-status='executed']"
    wait(browser).until(lambda b: b.find_elements(By.CSS_SELECTOR, done))
    assert "Executed" in _text(browser, f"#{ID.MESSAGE}")
    with db.session() as session:
        assert session.get(NextBestAction, action_id).status == "executed"


def test_a_customer_outside_the_book_is_not_found(browser, live_server, sized, book):
    _, other = book
    sign_in(browser, live_server, BOOK_OWNER)
    browser.get(f"{live_server}/accounts/{other}")
    wait(browser).until(lambda b: b.find_elements(By.ID, "not-found-page"))
    assert not browser.find_elements(By.ID, ID.PAGE)
    browser.get(f"{live_server}/accounts/no-such-customer")
    wait(browser).until(lambda b: b.find_elements(By.ID, "not-found-page"))


def test_support_lead_sees_money_as_bands(browser, live_server, sized, book):
    account_id, _ = book
    sign_in(browser, live_server, "support_lead")
    browser.get(f"{live_server}/accounts/{account_id}")
    wait(browser).until(_filled)
    assert "Band " in _text(browser, f"#{ID.KPI_MRR}") and "Band " in _text(browser, f"#{ID.KPI_CLV}")
    assert "(band;" in _text(browser, f"#{ID.HEADER}")
    assert "(band)" in _text(browser, f"#{ID.ACTIONS}")
    assert not browser.find_elements(By.CSS_SELECTOR, f"#{ID.KPI_MRR} .c360-kpi-value")
