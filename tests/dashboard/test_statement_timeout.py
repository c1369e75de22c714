"""The web app's statement timeout: a runaway query is stopped by the database and answered with a clear
message (a panel's card, the API's 503), while jobs' connections have no limit."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from dash import Output
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from callbacks.kit import friendly_errors
from dashboard import api
from dashboard.db import Database, is_statement_timeout
from dashboard.extensions import db
from layouts.kit.states import TIMED_OUT
from tests.callbacks.test_morning_coffee import ID, _callback_payload, _response_outputs, text_of

SLEEP = text("SELECT pg_sleep(0.3)")


def test_a_web_engine_stops_a_runaway_statement_and_a_job_engine_does_not(database_url):
    web = Database().bind(database_url, statement_timeout_ms=50)
    job = Database().bind(database_url)
    try:
        with web.session() as session, pytest.raises(OperationalError) as stopped:
            session.execute(SLEEP)
        assert is_statement_timeout(stopped.value)
        with job.session() as session:
            session.execute(SLEEP)
    finally:
        web.dispose()
        job.dispose()
    assert not is_statement_timeout(ValueError("another failure"))


def test_web_queries_start_no_parallel_workers_and_jobs_keep_the_servers_setting(app, database_url):
    show = text("SELECT setting, boot_val FROM pg_settings WHERE name = 'max_parallel_workers_per_gather'")
    with db.session() as session:
        web_setting, server_default = session.execute(show).one()
    job = Database().bind(database_url)
    try:
        with job.session() as session:
            job_setting = session.execute(show).one()[0]
    finally:
        job.dispose()
    assert web_setting == "0" and db.parallel_workers == 0
    assert job_setting == server_default != "0"


def test_a_panel_whose_query_was_stopped_says_so_and_what_to_do(database_url):
    web = Database().bind(database_url, statement_timeout_ms=50)

    @friendly_errors(Output("panel", "children"))
    def panel() -> str:
        with web.session() as session:
            session.execute(SLEEP)
        return "never"

    @friendly_errors(Output("panel", "children"))
    def broken() -> str:
        raise RuntimeError("a bug")

    try:
        shown, other = text_of(panel()), text_of(broken())
    finally:
        web.dispose()
    assert TIMED_OUT in shown and "shorter period" in shown
    assert TIMED_OUT not in other and "Something went wrong" in other


def test_an_api_request_whose_query_was_stopped_answers_503(login_as, monkeypatch):
    def runaway(has_permission, session, scope):
        session.execute(text("SET LOCAL statement_timeout = '20ms'"))
        session.execute(SLEEP)
        return []

    monkeypatch.setattr(api.question_queries, "caller_questions", runaway)
    response = login_as("executive").get("/api/v1/questions")
    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "query_timeout"
    assert "too long" in response.get_json()["error"]["message"]


@contextmanager
def _locked_by_another_session(database_url: str, table: str) -> Iterator[None]:
    """`table` held with an ACCESS EXCLUSIVE lock by another session, the app's web engine giving up on a
    lock after 300 ms; both undone on leaving."""
    timeouts = dict(statement_timeout_ms=db.statement_timeout_ms, lock_timeout_ms=db.lock_timeout_ms,
                    parallel_workers=db.parallel_workers)
    db.bind(db.url, statement_timeout_ms=timeouts["statement_timeout_ms"], lock_timeout_ms=300,
            parallel_workers=timeouts["parallel_workers"])
    locker = create_engine(database_url)
    try:
        with locker.connect() as holder:
            holder.execute(text(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE"))  # held until rollback
            yield
            holder.rollback()
    finally:
        locker.dispose()
        db.bind(db.url, **timeouts)


def test_a_table_locked_by_another_session_stops_only_the_panels_reading_it(login_as, database_url):
    """A slow database (another session holding a lock on one gold table): panels reading that table answer
    within the lock timeout with the timed-out card, everything else stays fast, and the lock's end ends it."""
    assert db.lock_timeout_ms and db.lock_timeout_ms <= db.statement_timeout_ms
    client = login_as("executive")
    with _locked_by_another_session(database_url, "gold.leads_daily"):
        started = time.monotonic()
        locked = client.post("/_dash-update-component", json=_callback_payload(client.application,
                                                                              ID.KPI_CUSTOMERS))
        locked_seconds = time.monotonic() - started
        started = time.monotonic()
        other = client.get("/api/v1/questions")
        other_seconds = time.monotonic() - started
    after = client.post("/_dash-update-component", json=_callback_payload(client.application, ID.KPI_CUSTOMERS))
    assert locked.status_code == 200
    assert TIMED_OUT in json.dumps(_response_outputs(locked)) and locked_seconds < 5
    assert other.status_code == 200 and other_seconds < 2
    assert after.status_code == 200 and TIMED_OUT not in json.dumps(_response_outputs(after))
    assert "Active customers" in json.dumps(_response_outputs(after))


def test_a_page_whose_layout_waits_on_a_locked_table_says_so_instead_of_a_500(login_as, database_url):
    """The Queues layout reads gold.support_case for its filters; while another session holds a lock on it,
    the router answers the page with the timed-out card within the lock timeout, not a server error."""
    from tests.dashboard.security.dash_requests import page_layout

    client = login_as("support_lead")
    with _locked_by_another_session(database_url, "gold.support_case"):
        locked = page_layout(client, client.application, "/support")
    after = page_layout(client, client.application, "/support")
    assert locked.status_code == 200, locked.get_data(as_text=True)[:300]
    assert TIMED_OUT in locked.get_data(as_text=True)
    assert after.status_code == 200 and TIMED_OUT not in after.get_data(as_text=True)
