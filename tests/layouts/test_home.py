"""Home in a browser: "What do you want to know?" lists the questions the user may open, filters
them as they type, and each links to the page that answers it; the page cards stay below."""

from __future__ import annotations

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as ec

from dashboard.permissions import DEFAULT_ROLES
from dashboard.queries.questions import matching_questions
from layouts.home import ID as HOME
from tests.layouts.test_pages import sign_in, wait
from tests.layouts.test_question_catalogue import CATALOGUE

EXECUTIVE_PERMISSIONS = frozenset(next(r for r in DEFAULT_ROLES if r.name == "executive").permissions)


def _listed(browser) -> list[str]:
    return [link.get_attribute("href") for link in browser.find_elements(By.CSS_SELECTOR, f"a.{HOME.RESULT_LINK}")]


def test_home_search_lists_the_users_questions_and_filters_as_they_type(browser, live_server):
    executive = [q for q in CATALOGUE if set(q.permissions) <= EXECUTIVE_PERMISSIONS]
    assert executive
    sign_in(browser, live_server, "executive")
    browser.get(live_server + "/")
    search = wait(browser).until(ec.element_to_be_clickable((By.ID, HOME.SEARCH)))
    wait(browser).until(lambda b: len(_listed(b)) == len(executive))
    assert browser.find_elements(By.CSS_SELECTOR, "#home-page .card")  # the page cards are still there

    wanted = matching_questions(executive, "revenue region")
    assert 0 < len(wanted) < len(executive)
    search.send_keys("revenue region")
    wait(browser).until(lambda b: len(_listed(b)) == len(wanted))
    assert [href.removeprefix(live_server) for href in _listed(browser)] == [q.url for q in wanted]

    search.send_keys(" zebra")
    wait(browser).until(ec.visibility_of_element_located((By.ID, HOME.NO_MATCH)))
    assert _listed(browser) == []

    search.send_keys(Keys.CONTROL + "a", Keys.BACKSPACE)  # as a person clears it: React sees the change
    search.send_keys("leads")
    wait(browser).until(lambda b: len(_listed(b)) == len(matching_questions(executive, "leads")) > 0)
    browser.find_element(By.CSS_SELECTOR, f"a.{HOME.RESULT_LINK}").click()
    wait(browser).until(lambda b: b.current_url.startswith(live_server + "/executive"))


def test_a_marketing_manager_finds_the_growth_question(browser, live_server):
    # Every default role now has at least one question: the marketing manager's is about growth.
    sign_in(browser, live_server, "marketing_manager")
    browser.get(live_server + "/")
    wait(browser).until(ec.element_to_be_clickable((By.ID, HOME.SEARCH)))
    wait(browser).until(lambda b: any(href.endswith("/marketing/growth") for href in _listed(b)))
