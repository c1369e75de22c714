"""In a real browser: an administrator opens Data quality on a desktop and on a phone and sees
every panel filled from the loaded demo database; a quarantine link opens that dataset's rows on
Data jobs; other roles get the forbidden page."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from sqlalchemy import text

from layouts.admin_jobs import ID as JOBS
from layouts.admin_quality import ID
from tests.layouts.test_pages import sign_in, wait

DESKTOP = (1440, 900)
PHONE = (390, 844)


@pytest.fixture(scope="module")
def quality_facts(loaded_database):
    """Figures the page must show, read straight from the database. Profile completeness is
    measured by the hourly data_quality job, so it is run once if no run has measured it yet."""
    from etl.quality import run_all_checks

    with loaded_database.engine.connect() as conn:
        measured = conn.scalar(text("SELECT count(*) FROM app.profile_completeness"))
    if not measured:
        run_all_checks(loaded_database, triggered_by="test")
    with loaded_database.engine.connect() as conn:
        return {
            "checks": conn.scalar(text("SELECT count(DISTINCT check_id) FROM app.dq_result")),
            "quarantined": conn.scalar(text("SELECT count(*) FROM bronze.quarantine")),
            "datasets": conn.scalar(text("SELECT count(DISTINCT dataset) FROM bronze.quarantine")),
            "entity_types": conn.scalar(text("SELECT count(DISTINCT entity_type) FROM app.profile_completeness")),
            "models": conn.scalar(text("SELECT count(*) FROM app.churn_model")),
        }


@pytest.fixture()
def sized(browser):
    """The browser, its window size restored after the test."""
    size = browser.get_window_size()
    yield browser
    browser.set_window_size(size["width"], size["height"])


def _rows(browser, selector: str) -> int:
    return browser.execute_script("return document.querySelectorAll(arguments[0]).length", selector)


def _text(browser, element_id: str) -> str:
    return browser.execute_script("const e = document.getElementById(arguments[0]); return e ? e.innerText : '';",
                                  element_id) or ""


def _assert_every_panel_rendered(browser, facts, *, wide: bool) -> None:
    rows = f"#{ID.CHECKS_TABLE} .ag-center-cols-container .ag-row"
    wait(browser).until(lambda b: _rows(b, rows) > 0)
    assert f"{facts['checks']:,} checks" in _text(browser, "aq-checks-summary")
    assert f"{facts['checks']:,} selected" in _text(browser, "aq-checks-summary")
    if wide:  # on a phone the grid draws only the columns in view, and the trend is off to the right
        assert _rows(browser, f"#{ID.CHECKS_TABLE} .c360-run-strip > span") >= _rows(browser, rows)
    assert _text(browser, ID.CHECKS_TABLE).count("fail \u00b7 warning") >= 1  # failures come first

    wait(browser).until(ec.presence_of_element_located((By.ID, "aq-quarantine-total")))
    assert _text(browser, "aq-quarantine-total").startswith(f"{facts['quarantined']:,} rows quarantined")
    assert _rows(browser, "#aq-quarantine-datasets tbody tr") == facts["datasets"]
    assert _rows(browser, "#aq-quarantine-reasons tbody tr") >= 1
    assert "'\u2026'" in _text(browser, "aq-quarantine-reasons")

    wait(browser).until(ec.presence_of_element_located((By.ID, "aq-completeness-entities")))
    assert _rows(browser, "#aq-completeness-entities tbody tr") == facts["entity_types"] >= 1
    assert _rows(browser, "#aq-completeness-fields tbody tr") >= 1

    wait(browser).until(ec.presence_of_element_located((By.ID, "aq-identity-people")))
    assert "%" in _text(browser, "aq-identity-people") and "matched to another record" in _text(
        browser, "aq-identity-people")
    assert _rows(browser, "#aq-identity-confidence tbody tr") == 5

    wait(browser).until(ec.presence_of_element_located((By.ID, "aq-models-card")))
    models = _text(browser, "aq-models-card")
    assert ("Serving" in models or "No model reaches" in models) if facts["models"] else (
        "No churn model has been trained yet" in models)


def test_admin_sees_every_panel_on_a_desktop(sized, live_server, quality_facts):
    sized.set_window_size(*DESKTOP)
    sign_in(sized, live_server, "admin")
    assert sized.find_elements(By.ID, "nav-admin/quality")
    sized.find_element(By.ID, "nav-admin/quality").click()
    wait(sized).until(ec.presence_of_element_located((By.ID, ID.PAGE)))
    _assert_every_panel_rendered(sized, quality_facts, wide=True)
    # The badge says the data is fresh: the session's load succeeded and nothing is held back.
    assert sized.find_element(By.ID, "freshness-badge").text.startswith("Data as of")
    sized.save_screenshot("/tmp/admin_quality_desktop.png")

    # A quarantine link opens Data jobs filtered to that dataset.
    link = sized.find_element(By.CSS_SELECTOR, "#aq-quarantine-datasets tbody tr .c360-quarantine-link")
    dataset = sized.find_element(By.CSS_SELECTOR, "#aq-quarantine-datasets tbody tr td").text
    sized.execute_script("window.__samePage = true; arguments[0].scrollIntoView({block: 'center', "
                         "behavior: 'instant'}); arguments[0].click();", link)
    wait(sized).until(lambda b: "/admin/jobs" in b.current_url and f"dataset={dataset}" in b.current_url)
    assert sized.execute_script("return window.__samePage === true"), "the link reloaded the whole page"
    wait(sized).until(ec.presence_of_element_located((By.CSS_SELECTOR, "#jb-quarantine-rows tbody tr")))
    assert sized.find_element(By.ID, JOBS.QUARANTINE_DATASET).get_attribute("value") == dataset
    listed = {row.text for row in sized.find_elements(By.CSS_SELECTOR, "#jb-quarantine-rows tbody tr td:first-child")}
    assert listed == {dataset}


def test_admin_sees_every_panel_on_a_phone(sized, live_server, quality_facts):
    sized.set_window_size(*PHONE)
    sign_in(sized, live_server, "admin")
    sized.get(live_server + "/admin/quality?status=fail")
    wait(sized).until(ec.presence_of_element_located((By.ID, ID.PAGE)))
    # The deep link filters the checks to failures.
    outcomes = f"#{ID.CHECKS_TABLE} .ag-cell[col-id='outcome']"
    wait(sized).until(lambda b: _rows(b, outcomes) > 0)
    results = {cell.text for cell in sized.find_elements(By.CSS_SELECTOR, outcomes)}
    assert results and all(result.startswith("fail") for result in results), results
    assert "selected" in _text(sized, "aq-checks-summary")
    sized.get(live_server + "/admin/quality")
    wait(sized).until(ec.presence_of_element_located((By.ID, ID.PAGE)))
    _assert_every_panel_rendered(sized, quality_facts, wide=False)
    # Panels stack in one column and the page does not scroll sideways.
    widths = sized.execute_script(
        "return [document.documentElement.scrollWidth, window.innerWidth,"
        " document.getElementById('aq-quarantine-card').getBoundingClientRect().width]")
    assert widths[0] <= widths[1] + 1, widths
    assert widths[2] >= widths[1] * 0.8, widths
    sized.save_screenshot("/tmp/admin_quality_phone.png")


@pytest.mark.parametrize("role", ["executive", "support_lead"])
def test_other_roles_get_the_forbidden_page(browser, live_server, role):
    sign_in(browser, live_server, role)
    assert not browser.find_elements(By.ID, "nav-admin/quality")
    browser.get(live_server + "/admin/quality")
    wait(browser).until(ec.presence_of_element_located((By.ID, "forbidden-page")))
    assert not browser.find_elements(By.ID, ID.CHECKS)
    assert not browser.find_elements(By.ID, ID.STAGE)
