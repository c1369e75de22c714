"""Queues in a real browser, at desktop (1440x900) and phone (390x844) widths: a support lead signs in
and lands on the page, whose queue cards and speed panel show their numbers at once; they click the
busiest cell of the peak-hours heatmap to list its cases, open one case's thread in the side panel,
sort the agent leaderboard and click an agent to filter the queue to theirs. Explicit waits only."""

from __future__ import annotations

from urllib.parse import urlparse

import pytest
from selenium.common.exceptions import TimeoutException, WebDriverException
from selenium.webdriver.common.actions.action_builder import ActionBuilder
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec

from layouts.support import SupportIds as ID
from tests.layouts import test_morning_coffee as morning_coffee
from tests.layouts.test_morning_coffee import assert_no_error, search
from tests.layouts.test_pages import wait
from tests.layouts.test_question_catalogue import PENDING_CALLBACKS
from tests.layouts.test_sales import sign_in_email

pytestmark = pytest.mark.browser

sized = morning_coffee.sized  # the browser at desktop and phone widths
TIMEOUT = 60
SUPPORT_LEAD = "support_lead@test.client360.dev"


def grid_cells(browser, grid_id: str, column: str) -> list[str]:
    return browser.execute_script(
        "return [...document.querySelectorAll(arguments[0])].map(e => e.textContent.trim());",
        f"#{grid_id} .ag-row [col-id='{column}']")  # pinned or not


def settled(browser) -> bool:
    return browser.execute_script(PENDING_CALLBACKS) == 0


def loaded(browser, panel_id: str) -> bool:
    """The panel shows digits and no skeleton is left in it."""
    element = browser.find_elements(By.ID, panel_id)
    return bool(element) and any(ch.isdigit() for ch in element[0].text) and not browser.find_elements(
        By.CSS_SELECTOR, f"#{panel_id} .c360-skeleton")


def no_overflow(browser) -> None:
    widths = browser.execute_script("return [document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], widths


def click_at(browser, x: float, y: float) -> None:
    actions = ActionBuilder(browser)
    actions.pointer_action.move_to_location(int(x), int(y)).click()
    actions.perform()


# The viewport position of the busiest cell of the cases heatmap (the first trace).
BUSIEST_CELL = """
const gd = document.querySelector(arguments[0]);
if (!gd || !gd._fullLayout || !gd.data) { return null; }
const z = gd.data[0].z; let best = [-1, 0, 0];
z.forEach((row, r) => row.forEach((v, c) => { if (v !== null && v > best[0]) { best = [v, r, c]; } }));
const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis, box = gd.getBoundingClientRect();
const hour = gd.data[0].x[best[2]], day = gd.data[0].y[best[1]];
return [box.left + xa._offset + xa.l2p(hour), box.top + ya._offset + ya.l2p(ya._categories.indexOf(day)),
        best[1] + 1, hour];
"""


def test_a_support_lead_lands_on_queues_and_the_answers_are_there(sized, live_server):
    sign_in_email(sized, live_server, SUPPORT_LEAD)
    wait(sized).until(lambda b: urlparse(b.current_url).path == "/support")
    wait(sized, TIMEOUT).until(lambda b: loaded(b, ID.KPIS) and loaded(b, ID.QUEUE) and loaded(b, ID.SPEED))
    cards = sized.find_element(By.ID, ID.KPIS).text.casefold()
    for title in ("unassigned", "unanswered", "oldest waiting", "sla breaching within 1 h"):
        assert title in cards, title
    assert "Queue as of" in sized.find_element(By.ID, ID.CLOCK).text
    assert grid_cells(sized, ID.QUEUE_GRID, "status")  # open cases, with their status
    assert "first response, median" in sized.find_element(By.ID, ID.SPEED).text.casefold()
    wait(sized, TIMEOUT).until(ec.presence_of_element_located((By.CSS_SELECTOR, f"#{ID.HEATMAP_GRAPH} .js-plotly-plot")))
    wait(sized, TIMEOUT).until(lambda b: grid_cells(b, ID.AGENTS_GRID, "agent_name"))
    # A card opens the list behind it.
    card = sized.find_element(By.ID, f"{ID.KPIS}-unanswered")
    sized.execute_script("arguments[0].click()", card)
    wait(sized, TIMEOUT).until(lambda b: search(b).get("queue") == ["unanswered"])
    wait(sized, TIMEOUT).until(lambda b: "Unanswered" in b.find_element(By.ID, ID.QUEUE).text
                               and grid_cells(b, ID.QUEUE_GRID, "waiting_minutes"))
    no_overflow(sized)
    assert_no_error(sized)


def test_heatmap_cell_to_cases_to_thread_and_the_agent_leaderboard(sized, live_server):
    sign_in_email(sized, live_server, SUPPORT_LEAD)
    sized.get(f"{live_server}/support?period=90")
    graph = f"#{ID.HEATMAP_GRAPH} .js-plotly-plot"
    wait(sized, TIMEOUT).until(ec.presence_of_element_located((By.CSS_SELECTOR, graph)))

    # The busiest weekday-hour lists its cases.
    for _ in range(4):
        wait(sized, TIMEOUT).until(settled)
        element = sized.find_element(By.CSS_SELECTOR, graph)
        sized.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'})", element)
        cell = sized.execute_script(BUSIEST_CELL, graph)
        try:
            click_at(sized, cell[0], cell[1])
            wait(sized, 15).until(lambda b, cell=cell: search(b).get("drill") == [f"cell:{cell[2]}-{cell[3]}"])
            break
        except (TimeoutException, WebDriverException):
            continue
    assert search(sized).get("drill") == [f"cell:{cell[2]}-{cell[3]}"]
    cases = wait(sized, TIMEOUT).until(lambda b: grid_cells(b, ID.CASES_GRID, "case_id"))
    assert "Opened on" in sized.find_element(By.ID, ID.CASES).text

    # A case opens its thread in the side panel.
    for _ in range(3):
        wait(sized, TIMEOUT).until(lambda b: settled(b) and grid_cells(b, ID.CASES_GRID, "case_id"))
        status = sized.find_element(By.CSS_SELECTOR, f"#{ID.CASES_GRID} .ag-center-cols-container .ag-row "
                                                     "[col-id='status']")
        sized.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'})", status)
        try:
            sized.execute_script("arguments[0].click()", status)
            wait(sized, 15).until(ec.visibility_of_element_located((By.ID, ID.THREAD)))
            break
        except (TimeoutException, WebDriverException):
            continue
    panel = wait(sized, TIMEOUT).until(ec.visibility_of_element_located((By.ID, ID.THREAD)))
    wait(sized, TIMEOUT).until(lambda b: any(case in panel.text for case in cases))
    assert "Opened" in panel.text and "Status" in panel.text
    no_overflow(sized)
    # The panel slides in: its close button takes clicks once the animation is over.
    close = wait(sized, TIMEOUT).until(ec.element_to_be_clickable((By.CSS_SELECTOR, f"#{ID.THREAD} .btn-close")))
    sized.execute_script("arguments[0].click()", close)
    wait(sized, TIMEOUT).until(ec.invisibility_of_element_located((By.ID, ID.THREAD)))

    # The leaderboard sorts, and an agent opens their queue.
    header = sized.find_element(By.CSS_SELECTOR, f"#{ID.AGENTS_GRID} .ag-header-cell[col-id='cases']")
    sized.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'})", header)
    sized.execute_script("arguments[0].querySelector('.ag-header-cell-label').click()", header)

    def counts(b) -> list[int]:
        """The cases column in the order the rows are shown (ag-grid positions rows, not the DOM order)."""
        shown = b.execute_script(
            "return [...document.querySelectorAll(arguments[0])].map(r => [Number(r.getAttribute('row-index')), "
            "r.querySelector(\"[col-id='cases']\").textContent.trim()]).sort((a, b) => a[0] - b[0])"
            ".map(p => p[1]);", f"#{ID.AGENTS_GRID} .ag-center-cols-container .ag-row")
        return [int(v.replace(",", "")) for v in shown if v]

    wait(sized, TIMEOUT).until(lambda b: (c := counts(b)) and c == sorted(c) and c[0] < c[-1])
    assert header.get_attribute("aria-sort") == "ascending"
    first = sized.find_element(By.CSS_SELECTOR, f"#{ID.AGENTS_GRID} .ag-center-cols-container .ag-row[row-index='0']")
    agent_id = first.get_attribute("row-id")
    agent_name = sized.find_element(By.CSS_SELECTOR, f"#{ID.AGENTS_GRID} .ag-row[row-index='0'] "
                                                     "[col-id='agent_name']").text.strip()
    sized.execute_script("arguments[0].querySelector(\"[col-id='cases']\").click()", first)
    wait(sized, TIMEOUT).until(lambda b: search(b).get("agent") == [agent_id])
    wait(sized, TIMEOUT).until(lambda b: f"{agent_name}'s queue" in b.find_element(By.ID, ID.QUEUE).text)
    assert set(grid_cells(sized, ID.QUEUE_GRID, "agent_name")) <= {agent_name}
    no_overflow(sized)
    assert_no_error(sized)
