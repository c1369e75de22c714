"""The database going away and coming back, through a relay the tests cut and restore: while it is
down every kind of request answers a clear 503 (a page that reloads itself, the API's JSON, Dash's
JSON, a panel's card), never a traceback; once it is back the same app answers again within 5 s with
no restart, and a read whose connection died under it is read again on a fresh one."""

from __future__ import annotations

import json
import time

import pytest
from dash import Output
from sqlalchemy import text
from sqlalchemy.exc import OperationalError, ProgrammingError

from callbacks.kit import friendly_errors
from dashboard.db import Database, is_database_unavailable, is_dropped_connection
from dashboard.extensions import db
from layouts.kit.states import UNAVAILABLE
from tests.callbacks.test_morning_coffee import ID, _callback_payload, _response_outputs, text_of
from tests.dashboard.relay import DatabaseRelay

RECOVERY_SECONDS = 5.0


@pytest.fixture()
def relay(app):
    """The app's database reached through a relay for the length of one test."""
    original_url, timeouts = db.url, dict(statement_timeout_ms=db.statement_timeout_ms,
                                          lock_timeout_ms=db.lock_timeout_ms)
    relay = DatabaseRelay(original_url).start()
    db.bind(relay.url, **timeouts)
    try:
        yield relay
    finally:
        relay.cut()
        db.bind(original_url, **timeouts)


def _kpis(client):
    return client.post("/_dash-update-component", json=_callback_payload(client.application, ID.KPI_CUSTOMERS))


def _answers(client) -> list[int]:
    return [client.get("/").status_code, client.get("/api/v1/questions").status_code, _kpis(client).status_code]


def test_while_the_database_is_down_every_request_says_so_and_the_app_recovers_by_itself(relay, login_as):
    client = login_as("executive")
    assert _answers(client) == [200, 200, 200]

    relay.cut()
    page = client.get("/", headers={"Accept": "text/html"})
    assert page.status_code == 503
    body = page.get_data(as_text=True)
    assert "temporarily unavailable" in body and 'http-equiv="refresh"' in body and "Traceback" not in body
    assert page.headers["Retry-After"] == "5"

    api = client.get("/api/v1/questions")
    assert api.status_code == 503
    assert api.get_json()["error"]["code"] == "unavailable"
    assert "temporarily unavailable" in api.get_json()["error"]["message"]

    callback = _kpis(client)
    assert callback.status_code == 503
    assert "temporarily unavailable" in callback.get_json()["error"]

    sign_in_page = client.application.test_client().get("/login")
    assert sign_in_page.status_code in (200, 503)  # the form needs no database; signing in does
    assert "Traceback" not in sign_in_page.get_data(as_text=True)

    relay.start()
    back = time.monotonic()
    while _answers(client) != [200, 200, 200]:
        assert time.monotonic() - back < RECOVERY_SECONDS, "not recovered within 5 s of the database returning"
        time.sleep(0.1)
    # Recovered for good: no 5xx afterwards, and the session survived the outage.
    for _ in range(5):
        assert _answers(client) == [200, 200, 200]
    customers = json.dumps(_response_outputs(_kpis(client))[f"{ID.KPI_CUSTOMERS}.children"])
    assert "Active customers" in customers


def test_connections_dropped_by_a_restart_are_replaced_without_an_error(relay, login_as):
    client = login_as("executive")
    assert _answers(client) == [200, 200, 200]
    relay.drop_connections()  # a restart already over: every pooled connection is dead
    assert _answers(client) == [200, 200, 200]


def test_a_read_that_lost_its_connection_is_read_again_and_a_write_is_not(relay):
    attempts = {"read": 0, "write": 0}

    @friendly_errors(Output("panel", "children"))
    def read_panel() -> str:
        attempts["read"] += 1
        with db.session() as session:
            session.execute(text("SELECT 1"))
            if attempts["read"] == 1:
                relay.drop_connections()
            return f"read {session.scalar(text('SELECT 2'))}"

    @friendly_errors(Output("panel", "children"))
    def write_panel() -> str:
        attempts["write"] += 1
        with db.begin() as session:
            session.execute(text("SELECT 1"))
            relay.drop_connections()
            session.execute(text("SELECT 2"))
        return "written"

    assert read_panel() == "read 2" and attempts["read"] == 2
    shown = text_of(write_panel())
    assert attempts["write"] == 1, "work that may have written is never repeated"
    assert UNAVAILABLE in shown and "reload the page" in shown.lower()


def test_a_panel_whose_database_is_down_says_so(relay):
    @friendly_errors(Output("panel", "children"))
    def panel() -> str:
        with db.session() as session:
            return str(session.scalar(text("SELECT 1")))

    relay.cut()
    assert UNAVAILABLE in text_of(panel())


def test_what_counts_as_the_database_being_unavailable(relay, database_url):
    relay.cut()
    with pytest.raises(OperationalError) as refused, db.session() as session:
        session.execute(text("SELECT 1"))
    assert is_database_unavailable(refused.value) and not is_dropped_connection(refused.value)

    direct = Database().bind(database_url, statement_timeout_ms=50)
    try:
        with pytest.raises(ProgrammingError) as bad_query, direct.session() as session:
            session.execute(text("SELECT * FROM no_such_table"))
        with pytest.raises(OperationalError) as stopped, direct.session() as session:
            session.execute(text("SELECT pg_sleep(0.3)"))
    finally:
        direct.dispose()
    assert not is_database_unavailable(bad_query.value)
    assert not is_database_unavailable(stopped.value), "a query stopped at the timeout is not an outage"
    assert not is_database_unavailable(ValueError("not a database error"))
