"""Operations wiring: the build_* functions turn each query's result into its panel, sample texts masked
for a role without personal-data access, garbage state handled, the controls writing the URL, and the
page's callbacks refused server-side to a role without view_support."""

from __future__ import annotations

import json
from typing import Any

import pytest
from dash.exceptions import PreventUpdate
from plotly.utils import PlotlyJSONEncoder
from sqlalchemy import text
from sqlalchemy.orm import Session

from callbacks.support_insights import PANELS, write_controls_to_url
from dashboard.masking import MaskPolicy
from dashboard.permissions import DEFAULT_ROLES
from dashboard.queries import support_insights as q
from dashboard.queries.support_insights import OperationsQuery
from dashboard.scope import DataScope
from layouts.support_insights import OperationsIds as ID
from tests.callbacks.test_morning_coffee import text_of
from tests.dashboard.queries.conftest import rolled_back  # noqa: F401
from tests.dashboard.security.dash_requests import post_callback, response_outputs

EVERYTHING = DataScope.everything()
FULL = MaskPolicy(view_pii=True, view_financials=True)
ROLE_POLICY = {r.name: MaskPolicy.for_permissions(r.permissions) for r in DEFAULT_ROLES}
PRIVATE_EMAIL = "jane.private@example.com"
PRIVATE_PHONE = "+44 20 7946 0958"


@pytest.fixture(scope="module")
def text_scored(loaded_database):
    from etl.insights.text import run_text_insights

    run_text_insights(loaded_database, triggered_by="test")
    return loaded_database


@pytest.fixture()
def session(rolled_back: Session, text_scored) -> Session:  # noqa: F811
    return rolled_back


def _json(component: Any) -> str:
    return json.dumps(component, cls=PlotlyJSONEncoder)


def _all(session: Session, state: Any, scope: DataScope = EVERYTHING, policy: MaskPolicy = FULL) -> dict[str, Any]:
    return {output: build(session, state, scope=scope, policy=policy) for output, build in PANELS.items()}


def _plant_private_ticket(conn: Any, topic: str) -> None:
    """The newest ticket of the period, about `topic`, whose subject holds an email and a phone number."""
    conn.execute(text("""
        INSERT INTO gold.support_case (kind, case_id, account_id, region, territory, channel, severity, category,
                                       subject, team, opened_at, opened_day, opened_weekday, opened_hour, is_open,
                                       messages)
        SELECT 'ticket', 'T-PRIVATE', NULL, 'Unknown', 'Unknown', 'email', 'P3', 'billing', :subject, 'Unassigned',
               CAST(max(opened_day) AS timestamp) + time '23:59', max(opened_day), 1, 23, true, 0
        FROM gold.support_case"""), {"subject": f"Write to {PRIVATE_EMAIL} or call {PRIVATE_PHONE}"})
    conn.execute(text("""
        INSERT INTO gold.text_score (source, item_id, text_md5, compound, label, topics, keywords, scored_at)
        VALUES ('ticket', 'T-PRIVATE', 'planted', -0.5, 'negative', ARRAY[:topic], ARRAY['write'], now())"""),
        {"topic": topic})


def _top_topic(session: Session) -> str:
    return q.topics(session, OperationsQuery(), EVERYTHING, policy=FULL).rows[0].topic


def test_every_panel_shows_its_figures(session):
    outputs = _all(session, {})
    repeat = q.repeats(session, OperationsQuery(), EVERYTHING, policy=FULL)
    assert f"{repeat.repeat_share * 100:.1f}%" in text_of(outputs[ID.REPEAT])
    satisfaction = q.satisfaction(session, OperationsQuery(), EVERYTHING, policy=FULL)
    assert f"{satisfaction.satisfied_share * 100:.1f}%" in text_of(outputs[ID.SATISFACTION])
    complaints = q.complaints(session, OperationsQuery(), EVERYTHING, policy=FULL)
    assert f"{complaints.total.share * 100:.1f}%" in text_of(outputs[ID.COMPLAINTS])
    assert "P1 8 h" in text_of(outputs[ID.COMPLAINTS])  # the definition is on the page
    assert "same category" in text_of(outputs[ID.REPEAT])
    assert "Wilson" in text_of(outputs[ID.SATISFACTION])
    assert _top_topic(session) in text_of(outputs[ID.TOPICS])
    for name, panel in outputs.items():
        serialised = _json(panel)
        assert "Something went wrong" not in serialised, name
        assert any(ch.isdigit() for ch in text_of(panel)), name


@pytest.mark.parametrize("role, visible", [("support_lead", True), ("executive", False)])
def test_sample_texts_are_masked_without_view_pii(session, role, visible):
    _plant_private_ticket(session.connection(), _top_topic(session))
    serialised = _json(_all(session, {}, policy=ROLE_POLICY[role])[ID.TOPICS])
    assert (PRIVATE_EMAIL in serialised) is visible
    assert (PRIVATE_PHONE in serialised) is visible
    assert "Write to" in serialised  # the sample itself is shown, masked or not


@pytest.fixture()
def private_ticket(loaded_database, text_scored):
    """The planted ticket committed, so the running app sees it; removed afterwards."""
    with loaded_database.session() as s:
        topic = _top_topic(s)
    with loaded_database.begin() as s:
        _plant_private_ticket(s.connection(), topic)
    yield
    with loaded_database.begin() as s:
        s.execute(text("DELETE FROM gold.text_score WHERE source = 'ticket' AND item_id = 'T-PRIVATE'"))
        s.execute(text("DELETE FROM gold.support_case WHERE case_id = 'T-PRIVATE'"))


@pytest.mark.parametrize("role, visible", [("support_lead", True), ("executive", False)])
def test_over_http_the_executive_gets_the_samples_masked(login_as, private_ticket, role, visible):
    client = login_as(role)
    response = post_callback(client, client.application, f"{ID.TOPICS}.children", {f"{ID.STATE}.data": {}})
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    body = response.get_data(as_text=True)
    assert "Write to" in body
    assert (PRIVATE_EMAIL in body) is visible and (PRIVATE_PHONE in body) is visible


@pytest.mark.parametrize("state", [None, "garbage", {"days": ["a"], "region": {"x": 1}}, {"days": "x" * 10_000},
                                   {"days": "7", "region": "Nowhere"}, {"days": "-1"}, {"days": "90"}])
def test_garbage_state_never_raises(session, state):
    for name, panel in _all(session, state).items():
        serialised = _json(panel)
        assert "Traceback" not in serialised and "Something went wrong" not in serialised, name


def test_an_empty_scope_says_why(session):
    outputs = _all(session, None, scope=DataScope.nothing())
    for name in (ID.PRODUCTS, ID.REPEAT, ID.SATISFACTION, ID.SENTIMENT, ID.COMPLAINTS):
        assert "Nothing in your data scope" in text_of(outputs[name]), name


def test_a_territory_scope_shows_only_its_accounts(session):
    territory = session.scalar(text("SELECT territory FROM gold.support_case WHERE kind = 'ticket' AND territory "
                                    "<> 'Unknown' GROUP BY territory ORDER BY count(*) DESC LIMIT 1"))
    scope = DataScope.restricted_to([territory])
    repeat = q.repeats(session, OperationsQuery(days="90"), scope, policy=FULL)
    assert repeat.grid.rows and {r["territory"] for r in repeat.grid.rows} == {territory}
    everyone = q.repeats(session, OperationsQuery(days="90"), EVERYTHING, policy=FULL)
    assert repeat.customers < everyone.customers
    text_ = text_of(_all(session, {"days": "90"}, scope=scope)[ID.TOPICS])
    assert "ticket subjects of your data scope" in text_


def test_the_controls_write_the_url():
    assert write_controls_to_url("7", "all", {"days": None, "region": None}) == "?days=7"
    assert write_controls_to_url("30", "Europe", {"days": "7", "region": None}) == "?region=Europe"
    assert write_controls_to_url("90", "all", {"days": None, "region": "Europe"}) == "?days=90"
    with pytest.raises(PreventUpdate):
        write_controls_to_url("30", "all", {"days": None, "region": None})


@pytest.mark.parametrize("output", list(PANELS))
def test_a_support_lead_gets_the_panels_and_a_marketing_manager_is_refused(login_as, text_scored, output):
    client = login_as("support_lead")
    response = post_callback(client, client.application, f"{output}.children", {f"{ID.STATE}.data": {}})
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert "Something went wrong" not in json.dumps(response_outputs(response))
    refused = post_callback(login_as("marketing_manager"), client.application, f"{output}.children",
                            {f"{ID.STATE}.data": {}})
    assert refused.status_code == 403
    assert "ticket" not in refused.get_data(as_text=True).lower()


def test_before_gold_is_built_every_panel_says_so(session):
    from dashboard.queries.freshness import gold_status
    from layouts import support_insights as page

    status = gold_status(session)
    outputs = (page.topics_output, page.products_output, page.repeat_output, page.systemic_output,
               page.satisfaction_output, page.sentiment_output, page.vip_output, page.onboarding_output,
               page.complaints_output)
    for output in outputs:
        assert "No data yet" in text_of(output(status)), output.__name__
    session.execute(text("DELETE FROM gold.support_case"))
    assert q.resolve(session, OperationsQuery(), EVERYTHING) is None
    assert isinstance(q.vip(session, OperationsQuery(), EVERYTHING, policy=FULL), type(status))
