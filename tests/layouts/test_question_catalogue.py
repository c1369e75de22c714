"""Every catalogue question is answered where it says: signed in as a role holding its permissions,
its deep link opens a page whose answer element is visible and filled, with no error."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from sqlalchemy import select

from dashboard.extensions import db
from dashboard.permissions import DEFAULT_ROLES
from dashboard.queries.questions import Question, load_questions, questions_with_accounts
from dashboard.scope import scope_for_user_id
from dashboard.tables.app import User
from layouts.pages import HOME as HOME_PAGE
from layouts.pages import NOT_FOUND, PAGES
from tests.conftest import TEST_PASSWORD
from tests.layouts.test_pages import wait

CATALOGUE = load_questions({path for spec in (HOME_PAGE, NOT_FOUND, *PAGES)
                            for path in (spec.path, spec.path_template) if path})
ANSWER_TIMEOUT = 90  # the page and all its callbacks, on a busy machine (the first one starts Chromium)
# Signs of a failed page: the error states, a Python traceback, Dash's error overlay.
ERROR_SELECTORS = ("#forbidden-page", "#not-found-page", ".c360-error", ".dash-fe-error__title")
PENDING_CALLBACKS = """
    if (!window.store) { return 1; }
    const state = window.store.getState().callbacks || {};
    return Object.entries(state).filter(([k, v]) => k !== 'stored' && k !== 'completed' && Array.isArray(v))
                                .reduce((n, [k, v]) => n + v.length, 0);
"""


def role_for(question: Question) -> str:
    """A default role holding every permission the question needs; not admin when another will do."""
    holders = [r.name for r in DEFAULT_ROLES if set(question.permissions) <= set(r.permissions)]
    assert holders, f"no role may open {question.id}"
    return next((name for name in holders if name != "admin"), holders[0])


def test_the_catalogue_has_entries():
    assert CATALOGUE


def _answer_text(browser, selector: str) -> str:
    return browser.execute_script("const e = document.querySelector(arguments[0]); "
                                  "return e ? e.innerText : '';", selector) or ""


def _answered(browser, selector: str) -> bool:
    """The element is shown, holds a figure, and the page's callbacks have all come back."""
    element = browser.find_elements(By.CSS_SELECTOR, selector)
    if not element or not element[0].is_displayed():
        return False
    if browser.execute_script(PENDING_CALLBACKS) != 0:
        return False
    text = _answer_text(browser, selector)
    return any(ch.isdigit() for ch in text) and not browser.find_elements(By.CSS_SELECTOR, f"{selector} .dash-spinner")


def sign_in_to(browser, live_server: str, role: str, url: str) -> None:
    """Sign in through the form with the deep link as `next`, as a person following a shared link."""
    browser.get(f"{live_server}/login?{urlencode({'next': url})}")
    wait(browser).until(ec.element_to_be_clickable((By.ID, "email"))).send_keys(f"{role}@test.client360.dev")
    browser.find_element(By.ID, "password").send_keys(TEST_PASSWORD)
    browser.find_element(By.ID, "login-submit").click()


def as_linked_for(role: str, question: Question) -> Question:
    """The question as the role's catalogue lists it: a one-customer link names a customer of its scope."""
    with db.session() as session:
        user_id = session.scalar(select(User.id).where(User.email == f"{role}@test.client360.dev"))
        (linked,) = questions_with_accounts([question], session, scope_for_user_id(session, user_id))
    return linked


def _by_link(questions: list[Question]) -> dict[tuple[str, str], list[Question]]:
    """The questions grouped by the role that opens them and their deep link: one page load answers
    every question of a group (a page answers up to a dozen), the suite's time stays in check."""
    groups: dict[tuple[str, str], list[Question]] = {}
    for question in questions:
        groups.setdefault((role_for(question), question.url), []).append(question)
    return groups


LINKS = _by_link(CATALOGUE)


@pytest.mark.parametrize("link", list(LINKS), ids=[",".join(q.id for q in group) for group in LINKS.values()])
def test_each_question_is_answered_on_its_page(browser, live_server, insights_ran, link: tuple[str, str]):
    # insights_ran: the churn scores, lifetime values and feedback sums some answers are made of.
    role, _ = link
    questions = [as_linked_for(role, question) for question in LINKS[link]]
    url = questions[0].url
    sign_in_to(browser, live_server, role, url)
    for question in questions:
        wait(browser, ANSWER_TIMEOUT).until(lambda b, q=question: _answered(b, q.answer_selector))
        assert browser.current_url == live_server + url
        text = _answer_text(browser, question.answer_selector)
        assert text.strip(), question.id
        assert "No data" not in text and "Hidden:" not in text, (question.id, text[:300])
    for selector in ERROR_SELECTORS:
        assert not browser.find_elements(By.CSS_SELECTOR, selector), (url, selector)
    assert "Traceback" not in browser.page_source
