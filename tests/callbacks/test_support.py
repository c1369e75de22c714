"""Queues callbacks: the build functions return the page's components, the callbacks answer a support
lead through Dash's route and refuse roles without view_support on the server, a refresh that changes
nothing redraws nothing, clicks write the URL and open a case's thread, new records dropped by the live
feed show in the queue after one refresh, and a role without view_pii reads every subject and message
with emails, phone numbers and card numbers redacted."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, time
from pathlib import Path

import pytest
from dash import no_update
from plotly.utils import PlotlyJSONEncoder
from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from callbacks.support import (
    build_agents,
    build_cases,
    build_heatmap,
    build_queue,
    build_sla,
    build_speed,
    build_thread,
    heatmap_cell,
)
from dashboard.db import Database
from dashboard.extensions import db
from dashboard.masking import MaskPolicy
from dashboard.permissions import DEFAULT_ROLES
from dashboard.queries import support as q
from dashboard.queries.support import PageQuery
from dashboard.scope import DataScope
from dashboard.tables.gold import SupportCase
from etl.demo_data.live import drop_batch
from etl.pipeline import run_pipeline
from layouts.kit.relay import relay_id
from layouts.kit.states import NOTHING_IN_SCOPE
from layouts.support import SupportIds as ID
from tests.callbacks.test_morning_coffee import text_of
from tests.dashboard.security.dash_requests import (
    DASH_ROUTE,
    callback_keys,
    payload,
    post_callback,
    response_outputs,
)
from tests.etl.dbutil import cloned_database
from tests.etl.tiny_landing import AS_OF as TINY_AS_OF
from tests.etl.tiny_landing import write_tiny_landing

EVERYTHING = DataScope.everything()
ROLE_PERMISSIONS = {role.name: role.permissions for role in DEFAULT_ROLES}
SUPPORT_LEAD = MaskPolicy.for_permissions(ROLE_PERMISSIONS["support_lead"])
EXECUTIVE = MaskPolicy.for_permissions(ROLE_PERMISSIONS["executive"])
CARD = "4111 1111 1111 1111"
PERSONAL = f"Please refund me: jane.doe@example.com, +44 20 7946 0958, card {CARD}."


@pytest.fixture()
def session(loaded_database) -> Iterator[Session]:
    with loaded_database.session() as session:
        yield session


def _json(outputs) -> str:
    return json.dumps(outputs, cls=PlotlyJSONEncoder)


def _state(**values) -> dict:
    return {f"{ID.STATE}.data": {"period": "30", **values}, f"{ID.DATA_VERSION}.data": None}


def _key(app, output: str, input_id: str) -> str:
    return next(key for key in callback_keys(app) if output in key
                and input_id in json.dumps(payload(app, key)["inputs"]))


def test_the_roles_see_what_they_should():
    assert SUPPORT_LEAD.view_pii and not EXECUTIVE.view_pii


def test_build_functions_return_every_panel(session):
    queue = build_queue(session, PageQuery(), scope=EVERYTHING, policy=SUPPORT_LEAD)
    assert set(queue) == {"clock", "kpis", "queue", "fingerprint"}
    assert queue["clock"].startswith("Queue as of 23 Nov 2026 23:59 UTC")
    cards = text_of(queue["kpis"])
    for title in ("Open cases", "Unassigned", "Unanswered", "Oldest waiting", "SLA breaching within 1 h"):
        assert title in cards, title
    assert any(ch.isdigit() for ch in text_of(queue["queue"]))
    assert f'"{ID.QUEUE_GRID}"' in _json(queue["queue"])
    speed = build_speed(session, PageQuery(), scope=EVERYTHING, policy=SUPPORT_LEAD)
    assert "First response, median" in text_of(speed["speed"]) and f'"{ID.SPEED_GRAPH}"' in _json(speed)
    sla = build_sla(session, PageQuery(), scope=EVERYTHING, policy=SUPPORT_LEAD)
    assert "%" in text_of(sla["sla"]) and f'"{ID.BREACHES_GRID}"' in _json(sla["breaches"])
    agents = _json(build_agents(session, PageQuery(), scope=EVERYTHING, policy=SUPPORT_LEAD))
    assert f'"{ID.AGENTS_GRID}"' in agents and "Reopen rate" in agents
    heatmap = _json(build_heatmap(session, PageQuery(), scope=EVERYTHING, policy=SUPPORT_LEAD))
    assert f'"{ID.HEATMAP_GRAPH}"' in heatmap and '"type": "heatmap"' in heatmap
    assert build_cases(session, PageQuery(), scope=EVERYTHING, policy=SUPPORT_LEAD) == {"cases": None}
    cases = build_cases(session, PageQuery(drill="cell:2-10"), scope=EVERYTHING, policy=SUPPORT_LEAD)
    assert "Opened on Tue 10:00" in text_of(cases["cases"])


def test_a_scope_holding_nothing_says_why_every_panel_is_empty(session):
    nothing = DataScope.nothing()
    queue = build_queue(session, PageQuery(), scope=nothing, policy=SUPPORT_LEAD)
    assert "Open cases 0 " in text_of(queue["kpis"]) and NOTHING_IN_SCOPE in text_of(queue["queue"])
    for build, output in ((build_speed, "speed"), (build_sla, "sla"), (build_agents, "agents"),
                          (build_heatmap, "heatmap")):
        assert NOTHING_IN_SCOPE in text_of(build(session, PageQuery(), scope=nothing, policy=SUPPORT_LEAD)[output])


def test_a_refresh_that_changes_nothing_redraws_nothing(session):
    first = build_queue(session, PageQuery(queue="unanswered"), scope=EVERYTHING, policy=SUPPORT_LEAD)
    again = build_queue(session, PageQuery(queue="unanswered"), scope=EVERYTHING, policy=SUPPORT_LEAD,
                        fingerprint=first["fingerprint"])
    assert again["kpis"] is no_update and again["queue"] is no_update and again["fingerprint"] is no_update
    assert again["clock"].startswith("Queue as of")  # when the numbers were taken still moves
    other = build_queue(session, PageQuery(queue="unassigned"), scope=EVERYTHING, policy=SUPPORT_LEAD,
                        fingerprint=first["fingerprint"])
    assert other["fingerprint"] != first["fingerprint"] and other["queue"] is not no_update


def test_the_support_lead_is_answered_and_other_roles_are_refused(app, login_as):
    lead = login_as("support_lead")
    response = post_callback(lead, app, f"{ID.KPIS}.children", {**_state(), f"{ID.TICK}.n_intervals": None})
    assert response.status_code == 200
    assert "Unanswered" in json.dumps(response_outputs(response)[f"{ID.KPIS}.children"])
    for output in (f"{ID.SPEED}.children", f"{ID.AGENTS}.children", f"{ID.HEATMAP}.children"):
        assert post_callback(lead, app, output, _state()).status_code == 200, output
    refused = login_as("marketing_manager")
    for output in (f"{ID.KPIS}.children", f"{ID.SPEED}.children", f"{ID.SLA}.children", f"{ID.AGENTS}.children",
                   f"{ID.HEATMAP}.children", f"{ID.CASES}.children"):
        response = post_callback(refused, app, output, _state())
        assert response.status_code == 403, output
        assert "Unanswered" not in response.get_data(as_text=True)


def test_clicks_write_the_url_and_open_a_thread(app, login_as):
    client = login_as("support_lead")
    key = _key(app, f"{ID.URL}.search", ID.HEATMAP_GRAPH)
    click = {"points": [{"x": 14, "y": "Wed", "z": 3}]}
    response = client.post(DASH_ROUTE, json=payload(app, key, {f"{relay_id(ID.HEATMAP_GRAPH, 'clickData')}.data": click,
                                                               f"{ID.STATE}.data": {"period": "7"}}))
    assert response_outputs(response)[f"{ID.URL}.search"] == "?period=7&drill=cell%3A3-14"
    assert heatmap_cell({"points": [{"x": 3, "y": "Caturday"}]}) is None
    key = _key(app, f"{ID.URL}.search", ID.AGENTS_GRID)
    response = client.post(DASH_ROUTE, json=payload(app, key, {f"{relay_id(ID.AGENTS_GRID, 'cellClicked')}.data": {
        "rowId": "AGT-0001", "colId": "agent_name"}, f"{ID.STATE}.data": {}}))
    assert response_outputs(response)[f"{ID.URL}.search"] == "?queue=open&agent=AGT-0001"
    key = _key(app, f"{ID.URL}.search", ID.SPEED_GRAPH)
    response = client.post(DASH_ROUTE, json=payload(app, key, {f"{relay_id(ID.SPEED_GRAPH, 'clickData')}.data": {"points": [
        {"y": "AGT-0002", "x": 12.5}]}, f"{ID.STATE}.data": {"by": "agent"}}))
    assert response_outputs(response)[f"{ID.URL}.search"] == "?by=agent&drill=agent%3AAGT-0002"
    key = _key(app, f"{ID.URL}.search", ID.SLA_SEVERITY_GRAPH)
    response = client.post(DASH_ROUTE, json=payload(app, key, {f"{relay_id(ID.SLA_SEVERITY_GRAPH, 'clickData')}.data": {"points": [
        {"x": "P1", "y": 0.9}]}, f"{ID.STATE}.data": {"channel": "email"}}))
    assert response_outputs(response)[f"{ID.URL}.search"] == "?channel=email&drill=severity%3AP1"
    key = _key(app, f"{ID.URL}.search", ID.PERIOD)
    response = client.post(DASH_ROUTE, json=payload(app, key, {
        f"{ID.PERIOD}.value": "7", f"{ID.CHANNEL}.value": "__all__", f"{ID.TEAM}.value": "Tier 1",
        f"{ID.STATE}.data": {"queue": "unanswered", "drill": "cell:1-2"}}))
    assert response_outputs(response)[f"{ID.URL}.search"] == "?period=7&team=Tier+1&queue=unanswered"
    with db.session() as session:
        conversation = session.scalar(select(SupportCase.case_id).where(SupportCase.kind == "conversation",
                                                                        SupportCase.messages > 1).limit(1))
    key = _key(app, f"{ID.THREAD}.is_open", ID.QUEUE_GRID)
    response = client.post(DASH_ROUTE, json=payload(app, key, {f"{relay_id(ID.QUEUE_GRID, 'cellClicked')}.data": {
        "rowId": f"conversation:{conversation}", "colId": "status"}}))
    outputs = response_outputs(response)
    assert outputs[f"{ID.THREAD}.is_open"] is True and conversation in outputs[f"{ID.THREAD}.title"]
    assert "messages" in json.dumps(outputs[f"{ID.THREAD_BODY}.children"])
    # A click on the account's link opens the account, not the thread.
    skipped = client.post(DASH_ROUTE, json=payload(app, key, {f"{relay_id(ID.QUEUE_GRID, 'cellClicked')}.data": {
        "rowId": f"conversation:{conversation}", "colId": "account_name"}}))
    assert skipped.status_code == 204


# --- The live feed and personal data, on a private database -------------------------------------


@pytest.fixture(scope="module")
def live(pg_admin_url: str, tiny_loaded_template_url: str, tmp_path_factory: pytest.TempPathFactory
         ) -> Iterator[tuple[Database, Path]]:
    """A private database loaded with the tiny landing folder (a scratch copy), so new records never
    touch the shared one."""
    with cloned_database(pg_admin_url, tiny_loaded_template_url) as database:
        yield database, write_tiny_landing(tmp_path_factory.mktemp("support-live") / "landing")


def test_records_dropped_by_the_live_feed_show_in_the_queue_after_a_refresh(live):
    database, landing = live
    with database.session() as session:
        before = q.queue_state(session, q.resolve_page(session, PageQuery(), EVERYTHING).filters)
        drawn = build_queue(session, PageQuery(), scope=EVERYTHING, policy=SUPPORT_LEAD)
    noon = datetime.combine(TINY_AS_OF, time(12, 0), tzinfo=UTC)
    batch = drop_batch(database, landing, now=noon, seed=7)
    new_cases = batch.rows["support/tickets"] + batch.rows["support/conversations"]
    assert new_cases >= 2
    assert run_pipeline(database, landing, triggered_by="test").status == "success"
    with database.session() as session:
        filters = q.resolve_page(session, PageQuery(), EVERYTHING).filters
        after = q.queue_state(session, filters)
        unanswered = session.scalar(select(func.count()).where(
            SupportCase.is_open, SupportCase.waiting_since.is_not(None),
            SupportCase.case_id.like(f"%-L{noon:%Y%m%d%H%M%S}-%")))
        redrawn = build_queue(session, PageQuery(), scope=EVERYTHING, policy=SUPPORT_LEAD,
                              fingerprint=drawn["fingerprint"])
    assert filters.as_of == TINY_AS_OF
    assert after.open == before.open + new_cases
    assert unanswered >= 1 and after.unanswered == before.unanswered + unanswered
    assert redrawn["fingerprint"] != drawn["fingerprint"] and redrawn["kpis"] is not no_update
    assert f"Open cases {after.open:,} " in text_of(redrawn["kpis"])
    assert f"Open cases {before.open:,} " in text_of(drawn["kpis"])


def test_a_role_without_view_pii_reads_messages_and_subjects_redacted(live):
    database, landing = live
    noon = datetime.combine(TINY_AS_OF, time(12, 30), tzinfo=UTC)
    drop_batch(database, landing, now=noon, seed=11)
    assert run_pipeline(database, landing, triggered_by="test").status == "success"
    with database.begin() as session:
        conversation = session.scalar(select(SupportCase.case_id).where(SupportCase.kind == "conversation")
                                      .order_by(SupportCase.case_id).limit(1))
        ticket = session.scalar(select(SupportCase.case_id).where(SupportCase.kind == "ticket", SupportCase.is_open)
                                .order_by(SupportCase.case_id).limit(1))
        session.execute(text("INSERT INTO silver.messages (message_id, conversation_id, sent_at, direction, "
                             "author_id, body) VALUES ('MSG-PII-1', :c, now(), 'inbound', NULL, :body)"),
                        {"c": conversation, "body": PERSONAL})
        session.execute(update(SupportCase).where(SupportCase.kind == "ticket", SupportCase.case_id == ticket)
                        .values(subject=PERSONAL))
    with database.session() as session:
        hidden = _json(build_thread(session, f"conversation:{conversation}", scope=EVERYTHING, policy=EXECUTIVE))
        shown = _json(build_thread(session, f"conversation:{conversation}", scope=EVERYTHING, policy=SUPPORT_LEAD))
        queue_hidden = _json(build_queue(session, PageQuery(), scope=EVERYTHING, policy=EXECUTIVE)["queue"])
        ticket_hidden = _json(build_thread(session, f"ticket:{ticket}", scope=EVERYTHING, policy=EXECUTIVE))
    for masked in (hidden, queue_hidden, ticket_hidden):
        assert "jane.doe@example.com" not in masked and "j***@example.com" in masked
        assert "7946 0958" not in masked and "0958" in masked
        assert CARD not in masked and "[card \\u2022\\u2022\\u2022\\u2022 1111]" in masked
    assert "jane.doe@example.com" in shown and CARD in shown  # the support lead has view_pii


def test_a_user_limited_to_a_territory_sees_only_its_cases(app, login_email, scoped_users, scope_facts):
    client = login_email(scoped_users["executive"])  # an executive limited to one territory
    response = post_callback(client, app, f"{ID.QUEUE}.children", {**_state(), f"{ID.TICK}.n_intervals": None})
    grid = response_outputs(response)[f"{ID.QUEUE}.children"]
    with db.session() as session:
        territory_of = dict(session.execute(select(SupportCase.case_id, SupportCase.territory)
                                            .where(SupportCase.is_open)).all())
        outside = session.execute(select(SupportCase.kind, SupportCase.case_id).where(
            SupportCase.territory != scope_facts.territory, SupportCase.is_open).limit(1)).one()
    listed = {case for case in territory_of if f'"{case}"' in json.dumps(grid)}
    assert listed and {territory_of[case] for case in listed} == {scope_facts.territory}
    key = _key(app, f"{ID.THREAD}.is_open", ID.QUEUE_GRID)
    refused = client.post(DASH_ROUTE, json=payload(app, key, {f"{relay_id(ID.QUEUE_GRID, 'cellClicked')}.data": {
        "rowId": f"{outside.kind}:{outside.case_id}", "colId": "status"}}))
    assert "not in your data scope" in json.dumps(response_outputs(refused)[f"{ID.THREAD_BODY}.children"])
    assert outside.case_id not in json.dumps(response_outputs(refused)[f"{ID.THREAD_BODY}.children"])
