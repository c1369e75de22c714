"""My accounts in a real browser at desktop (1440x900) and phone (390x844) widths: an account manager
signs in and lands on their book, the grid has rows with its key column in view, a quick filter
changes the URL and the rows, the deep link reproduces that view, a row opens its account, and the
feedback panel fills."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest
from selenium.common.exceptions import ElementClickInterceptedException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import select

from dashboard.extensions import db
from dashboard.masking import MaskPolicy
from dashboard.queries import book as q
from dashboard.scope import scope_for_user_id
from dashboard.tables.app import User
from layouts.my_accounts import BOOK_PATH, ID
from tests.callbacks.test_my_accounts import MANAGER_EMAIL, linked_manager  # noqa: F401
from tests.layouts.test_morning_coffee import sized  # noqa: F401  (1440x900 and 390x844)
from tests.layouts.test_pages import TIMEOUT, sign_in, wait

pytestmark = pytest.mark.browser
FULL = MaskPolicy(view_pii=True, view_financials=True)
FEEDBACK_TIMEOUT = 60  # reads every text of the book, on a machine busy with other tests


@pytest.fixture()
def bound(app, insights_ran):  # noqa: F811
    return app


@pytest.fixture()
def filtered_view(linked_manager) -> tuple[str, int, int]:  # noqa: F811
    """A quick filter keeping some but not all of the manager's book: (view, its count, the book's)."""
    with db.session() as session:
        scope = scope_for_user_id(session, session.scalar(select(User.id).where(User.email == MANAGER_EMAIL)))
        whole = q.book_page(session, q.BookQuery(), scope, FULL)
        for view in q.VIEWS:
            page = q.book_page(session, q.BookQuery(view), scope, FULL)
            if 0 < page.matching < whole.matching:
                return view, page.matching, whole.matching
    pytest.fail("no quick filter keeps part of the manager's book")


def _count(browser) -> str:
    element = browser.find_elements(By.ID, ID.COUNT)
    return element[0].text if element else ""


def click(browser, element) -> None:
    """Scroll `element` to the middle of the screen and click it, again while something covers it (a
    phone's screen settles as panels fill in)."""
    attempts = []

    def clicked(b) -> bool:
        b.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'})", element)
        attempts.append(1)
        if len(attempts) > 5:  # still covered on a busy machine: the click event itself, as a tap sends it
            b.execute_script("arguments[0].click()", element)
        else:
            element.click()
        return True

    WebDriverWait(browser, TIMEOUT, ignored_exceptions=(ElementClickInterceptedException,)).until(clicked)


def _rows(browser) -> list:
    return browser.find_elements(By.CSS_SELECTOR, f"#{ID.GRID} .ag-pinned-left-cols-container .ag-row")


def test_an_account_manager_works_through_their_book(sized, live_server, filtered_view):  # noqa: F811
    view, matching, whole = filtered_view
    sign_in(sized, live_server, "account_manager")
    wait(sized).until(lambda b: urlparse(b.current_url).path == BOOK_PATH)
    wait(sized).until(lambda b: _count(b).startswith(f"{whole:,} account"))
    assert _rows(sized), "the grid shows no row with its key column"
    key_cell = _rows(sized)[0].find_element(By.CSS_SELECTOR, ".ag-cell")
    assert key_cell.is_displayed() and key_cell.rect["x"] < sized.execute_script("return window.innerWidth")
    overflow = sized.execute_script("return [document.documentElement.scrollWidth, window.innerWidth]")
    assert overflow[0] <= overflow[1], overflow
    assert sized.find_element(By.ID, ID.KPI_MRR).text
    # What the book's customers said fills in below.
    wait(sized, FEEDBACK_TIMEOUT).until(
        lambda b: b.find_elements(By.CSS_SELECTOR, f"#{ID.FEEDBACK} .c360-feedback-figure")
        or b.find_elements(By.CSS_SELECTOR, f"#{ID.FEEDBACK} .c360-error-state"))
    assert "NPS" in sized.find_element(By.ID, ID.FEEDBACK).text

    # A quick filter writes the URL and the grid follows.
    label = sized.find_element(By.XPATH, f"//*[@id='{ID.VIEW}']//label[normalize-space()='{q.VIEWS[view]}']")
    click(sized, label)
    wait(sized).until(lambda b: parse_qs(urlparse(b.current_url).query).get("view") == [view])
    wait(sized).until(lambda b: _count(b).startswith(f"{matching:,} account"))
    filtered_url = sized.current_url

    # The deep link reproduces the view.
    sized.get(live_server + BOOK_PATH)
    wait(sized).until(lambda b: _count(b).startswith(f"{whole:,} account"))
    sized.get(filtered_url)
    wait(sized).until(lambda b: _count(b).startswith(f"{matching:,} account"))
    checked = sized.find_element(By.CSS_SELECTOR, f"#{ID.VIEW} input:checked")
    assert checked.get_attribute("value") == view

    # A row opens its account's Customer 360 page.
    row = wait(sized).until(lambda b: _rows(b)[0] if _rows(b) else None)
    account_id = row.get_attribute("row-id")
    assert account_id
    cell = row.find_element(By.CSS_SELECTOR, ".ag-cell")
    click(sized, cell)
    wait(sized).until(lambda b: urlparse(b.current_url).path == f"/accounts/{account_id}")
    assert not sized.find_elements(By.CSS_SELECTOR, ".c360-error-state")
