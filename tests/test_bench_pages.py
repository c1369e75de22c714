"""bench/pages.py finds every page's callbacks from the app alone and times them, on the test database."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from tests.conftest import TEST_PASSWORD
from tests.dashboard.security.dash_requests import callback_keys, dash_app, page_layout

BENCH = Path(__file__).resolve().parent.parent / "bench" / "pages.py"
_spec = importlib.util.spec_from_file_location("bench_pages", BENCH)
bench_pages = importlib.util.module_from_spec(_spec)
sys.modules["bench_pages"] = bench_pages
_spec.loader.exec_module(bench_pages)

REPEAT = 1


@pytest.fixture(scope="module")
def measured(app, leads_scored):
    """The executive and the administrator on every page they may open, each page's own values only
    (filter changes are planned but not timed below, to keep the suite short). The lead job has run:
    Leads and buyers shows its panels only then."""
    logins = {role: (f"{role}@test.client360.dev", TEST_PASSWORD) for role in ("executive", "admin")}
    return bench_pages.measure(app, logins, REPEAT, with_filters=False)


def _visits(app, role: str) -> list[tuple[str, str]]:
    """(the page the bench reports, a path it opened) per visit: a page with a path template is opened
    with customers of the role's scope and reported under its template."""
    with app.app_context():
        samples = bench_pages.sample_accounts(f"{role}@test.client360.dev")
        visits = [(spec.path_template or spec.path, path) for spec in bench_pages.pages_for_role(role)
                  for _, path in bench_pages.page_visits(spec, samples)]
    assert visits
    return visits


def _ids(tree) -> set[str]:
    return set(bench_pages.index_components(tree))


def test_every_executive_page_has_a_timed_callback(app, measured):
    figures, _ = measured
    pages = [page for page, _ in _visits(app, "executive")]
    assert "/executive" in pages and "/accounts/<account_id>" in pages
    for page in pages:
        timed = [f for f in figures if f.role == "executive" and f.page == page]
        assert timed, f"no callback timed on {page}"
    morning_coffee = {f.key for f in figures if f.role == "executive" and f.page == "/executive"}
    assert any("_pages_content" not in key for key in morning_coffee), morning_coffee


def test_every_callback_on_the_admin_pages_is_timed_or_said_why_not(app, login_as, measured):
    """Checked against Dash's own callback map and each page as the router renders it."""
    figures, skipped = measured
    timed = {f.key for f in figures if f.role == "admin"}
    not_timed = {s.key: s.reason for s in skipped if s.page.startswith("admin ")}
    client = login_as("admin")
    shell = _ids(client.get("/_dash-layout").get_json())
    callback_map = dash_app(app).callback_map
    expected = set()
    for _, path in _visits(app, "admin"):
        response = page_layout(client, app, path)
        assert response.status_code == 200, path
        on_page = shell | _ids(response.get_json()["response"])
        for key in callback_keys(app):
            inputs = [dep["id"] for dep in callback_map[key]["inputs"]]
            if inputs and all(component_id in on_page for component_id in inputs):
                expected.add(key)
    assert len(expected) >= 10, expected
    missing = expected - timed - set(not_timed)
    assert not missing, f"callbacks neither timed nor listed: {sorted(missing)}"
    assert set(not_timed.values()) <= {bench_pages.USER_ACTION, bench_pages.BACKGROUND}
    # Dash's router only fires on navigation; it is timed as each page's layout.
    assert all(any(f.page == page and "_pages_content.children" in f.key for f in figures)
               for page, _ in _visits(app, "admin"))
    assert expected - set(not_timed) <= timed


def test_each_timed_callback_answers_and_its_sql_is_replayed(measured):
    figures, _ = measured
    assert figures
    for callback in figures:
        assert not callback.errors, (callback.page, callback.key, callback.errors)
        for variant in callback.variants:
            assert len(variant.server_ms) == REPEAT
            assert all(ms > 0 for ms in variant.server_ms)
    # The Morning Coffee panels read gold, so their SQL is captured and replayed.
    panels = [f for f in figures if f.page == "/executive" and "_pages_content" not in f.key]
    assert panels
    for panel in panels:
        assert panel.sql_ms, panel.key
        summary = panel.summary()
        assert summary["ratio"] is not None and summary["ratio"] > 0
        assert summary["statements"] > 0


def test_filters_are_changed_as_a_person_would(app, login_as):
    client = login_as("executive")
    dependencies = client.get("/_dash-dependencies").get_json()
    shell = bench_pages.index_components(client.get("/_dash-layout").get_json())
    page = bench_pages.index_components(page_layout(client, app, "/executive").get_json()["response"])
    calls, _ = bench_pages.plan_calls(dependencies, shell, page, "/executive", set())
    variants = {call.variant for call in calls if call.page == "/executive"}
    assert "default" in variants and "navigate" in variants
    assert any("last 7 days" in v for v in variants), variants
    changed = [call for call in calls if call.variant not in ("default", "navigate")]
    assert changed
    for call in changed:
        assert call.body["changedPropIds"], call.variant
        item = next(i for i in call.body["inputs"] if f"{i['id']}.{i['property']}" == call.body["changedPropIds"][0])
        assert item["value"] != page[str(item["id"])]["props"].get(item["property"]), call.variant


def test_filter_changes_pick_first_and_two_options_of_a_multi_dropdown():
    dropdown = {"id": "regions", "type": "Dropdown",
                "props": {"id": "regions", "multi": True, "value": [],
                          "options": [{"label": "EMEA", "value": "EMEA"}, {"label": "APAC", "value": "APAC"},
                                      {"label": "NA", "value": "NA", "disabled": True}]}}
    changes = bench_pages.filter_changes(dropdown, "value")
    assert [values for _, values in changes] == [{"regions.value": ["EMEA"]}, {"regions.value": ["EMEA", "APAC"]}]
    single = {"id": "stage", "type": "Dropdown", "props": {"id": "stage", "value": "gold", "options": ["bronze",
                                                                                                      "gold", "silver"]}}
    assert [values for _, values in bench_pages.filter_changes(single, "value")] == [
        {"stage.value": "bronze"}, {"stage.value": "silver"}]
    dates = {"id": "range", "type": "DatePickerRange",
             "props": {"id": "range", "start_date": "2026-01-01", "end_date": "2026-03-31"}}
    assert bench_pages.filter_changes(dates, "start_date")[0][1] == {"range.start_date": "2026-03-25",
                                                                     "range.end_date": "2026-03-31"}


def test_targets_are_marked():
    assert bench_pages.over_target(120.0, 2.0) == ["p95>100ms"]
    assert bench_pages.over_target(50.0, 4.0) == ["ratio>3"]
    assert bench_pages.over_target(100.0, 3.0) == []
