"""GoldStatus: fresh, held back by the data-quality gate, failing, or never built; and how the
badge, the Data jobs banner and the empty states say it."""

from __future__ import annotations

import json
from contextlib import nullcontext
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from dash import html
from sqlalchemy import delete, insert, select, text
from sqlalchemy.orm import Session

from dashboard.db import Database
from dashboard.masking import MaskPolicy
from dashboard.queries.freshness import gold_status, short_error
from dashboard.scope import DataScope
from dashboard.tables.app import JobRun
from dashboard.tables.quality import DqResult
from etl.pipeline import run_pipeline
from layouts.components import freshness_badge, gold_empty_detail, gold_status_banner
from tests.etl.dbutil import GOLD_TABLES
from tests.etl.tiny_landing import write_tiny_landing

NOW = datetime.now(UTC).replace(microsecond=0)
GATE_ERROR = ("etl.pipeline.QualityGateFailed: blocked by data quality after silver: 2 critical check(s) failed, "
              "gold not promoted (previous gold kept): silver.tickets.csat.range: observed 1 > 0 (critical); "
              "silver.accounts.unique_key: observed 2 > 0 (critical)")


def _text(component) -> str:
    return json.dumps(component.to_plotly_json(), default=lambda o: o.to_plotly_json()
                      if hasattr(o, "to_plotly_json") else str(o), ensure_ascii=False)


def _run(session: Session, status: str, minutes_ago: float, error: str | None = None, job_id: str = "etl") -> int:
    moment = NOW - timedelta(minutes=minutes_ago)
    return session.execute(insert(JobRun).values(
        job_id=job_id, triggered_by="test", status=status, started_at=moment - timedelta(seconds=30),
        finished_at=None if status == "running" else moment, rows={}, error=error).returning(JobRun.id)).scalar_one()


def _failed_check(session: Session, run_id: int, check_id: str, observed: float) -> None:
    session.execute(insert(DqResult).values(run_id=run_id, stage="silver", check_id=check_id, kind="range",
                                            table_name="silver.tickets", column_name="csat", severity="critical",
                                            status="fail", observed=observed, threshold=0, detail={}))


@pytest.fixture()
def no_etl_runs(rolled_back: Session) -> Session:
    """The loaded database as if the etl job had never run (rolled back afterwards)."""
    rolled_back.execute(text("UPDATE app.job_run SET job_id = 'etl-hidden' WHERE job_id = 'etl'"))
    return rolled_back


# --- The states, on the shared database inside a rolled-back transaction ---------------------


def test_the_loaded_database_is_fresh(rolled_back: Session) -> None:
    status = gold_status(rolled_back)
    last_success = rolled_back.scalar(select(JobRun.finished_at).where(
        JobRun.job_id == "etl", JobRun.status == "success").order_by(JobRun.id.desc()).limit(1))
    assert (status.state, status.refreshed_at, status.cause) == ("fresh", last_success, None)
    badge = freshness_badge(status)
    assert badge.color == "success" and badge.children.startswith("Data as of")
    assert gold_status_banner(status, banner_id="b").children is None  # nothing to say


def test_a_blocked_run_after_the_last_success_holds_gold_back(no_etl_runs: Session) -> None:
    session = no_etl_runs
    _run(session, "success", 60)
    first_blocked = _run(session, "failed", 40, GATE_ERROR)
    _failed_check(session, first_blocked, "silver.tickets.csat.range", 1)
    _run(session, "skipped", 30, "job 'etl' is already running in another process")
    newest = _run(session, "failed", 20, GATE_ERROR + "\nsource hubspot: timeout")
    _failed_check(session, newest, "silver.tickets.csat.range", 3)
    _failed_check(session, newest, "silver.accounts.unique_key", 2)
    _run(session, "running", 1)

    status = gold_status(session)

    assert status.state == "held_back" and status.blocked and status.run_id == newest
    assert status.since == NOW - timedelta(minutes=40)  # the first blocked refresh, not the newest
    assert status.refreshed_at == NOW - timedelta(minutes=60)
    assert status.cause == "silver.tickets.csat.range: observed 3 > 0"
    assert status.failing_checks == ("silver.tickets.csat.range: observed 3 > 0",
                                     "silver.accounts.unique_key: observed 2 > 0")
    assert status.failing_check_count == 2

    badge = freshness_badge(status)
    since = f"{NOW - timedelta(minutes=40):%Y-%m-%d %H:%M} UTC"
    assert badge.color == "warning"
    assert badge.children.startswith(f"Gold held back since {since}: silver.tickets.csat.range: observed 3 > 0")
    assert "2 failing critical checks" in badge.children and badge.title.startswith("Gold held back since")
    banner = _text(gold_status_banner(status))
    assert "Gold held back since" in banner and "silver.accounts.unique_key: observed 2 > 0" in banner
    assert '"color": "warning"' in banner


def test_the_failing_checks_come_from_the_error_when_no_result_was_stored(no_etl_runs: Session) -> None:
    _run(no_etl_runs, "success", 60)
    _run(no_etl_runs, "failed", 10, GATE_ERROR)
    status = gold_status(no_etl_runs)
    assert status.state == "held_back"
    assert status.failing_checks == ("silver.tickets.csat.range: observed 1 > 0",
                                     "silver.accounts.unique_key: observed 2 > 0")
    assert (status.cause, status.failing_check_count) == ("silver.tickets.csat.range: observed 1 > 0", 2)


def test_another_failure_is_red_with_its_cause(no_etl_runs: Session) -> None:
    _run(no_etl_runs, "success", 60)
    _run(no_etl_runs, "failed", 30, GATE_ERROR)
    _run(no_etl_runs, "failed", 20, "etl.pipeline.StageFailed: silver stage failed: psycopg.errors.DiskFull: "
                                    "could not extend file\nDETAIL: more")
    _run(no_etl_runs, "interrupted", 5, "The process running this job stopped before it finished.")

    status = gold_status(no_etl_runs)

    assert (status.state, status.blocked) == ("failed", False)
    assert status.cause == "The process running this job stopped before it finished."
    assert status.since == NOW - timedelta(minutes=30)  # gold has not moved since the first failure
    badge = freshness_badge(status)
    assert badge.color == "danger" and "Data refresh failing since" in badge.children
    assert "The process running this job stopped" in badge.children


def test_never_built_without_any_run_or_with_a_blocked_one(no_etl_runs: Session) -> None:
    status = gold_status(no_etl_runs)
    assert (status.state, status.cause, status.since) == ("never", None, None)
    assert freshness_badge(status).color == "danger" and freshness_badge(status).children == "No data loaded yet"
    assert "c360 etl run" in _text(html.Div(gold_empty_detail(status)))

    _run(no_etl_runs, "failed", 5, GATE_ERROR)
    status = gold_status(no_etl_runs)
    assert (status.state, status.blocked, status.failing_check_count) == ("never", True, 2)
    badge = freshness_badge(status)
    assert badge.color == "danger" and "silver.tickets.csat.range" in badge.children
    detail = _text(html.Div(gold_empty_detail(status)))
    assert "Gold never built: promotion held back by data quality" in detail and "silver.tickets.csat.range" in detail


def test_short_error_keeps_the_first_line_without_the_exception_path() -> None:
    assert short_error("etl.pipeline.StageFailed: gold stage failed: boom\nTraceback") == "gold stage failed: boom"
    assert short_error("plain words: kept") == "plain words: kept"
    assert short_error(None) == ""
    assert len(short_error("x" * 1000)) == 240


# --- The page's empty state names the cause ---------------------------------------------------


class _SessionProvider:
    """Stands in for `dashboard.extensions.db` so a layout reads the test's session."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def session(self):
        return nullcontext(self._session)


def test_morning_coffee_empty_state_names_why_gold_is_empty(no_etl_runs: Session, monkeypatch) -> None:
    import layouts.morning_coffee as page
    from callbacks.morning_coffee import build_kpis

    session = no_etl_runs
    for table in GOLD_TABLES:
        session.execute(delete(table))
    blocked = _run(session, "failed", 5, GATE_ERROR)
    _failed_check(session, blocked, "silver.tickets.csat.range", 4)

    outputs = build_kpis(session, None, None, None, green_minutes=60, amber_minutes=240,
                         scope=DataScope.everything(), policy=MaskPolicy(view_pii=True, view_financials=True))
    note = _text(outputs["filter_note"])
    assert "Gold never built" in note and "silver.tickets.csat.range: observed 4 > 0" in note
    monkeypatch.setattr(page, "db", _SessionProvider(session))
    built = _text(page.layout())
    assert "No data yet" in built and "held back by data quality" in built and "c360 etl run" in built


# --- End to end: a real blocked pipeline run in a private database ----------------------------


def test_a_real_blocked_refresh_turns_the_badge_amber(scratch_db: Database, tmp_path: Path) -> None:
    landing = write_tiny_landing(tmp_path / "landing")
    assert run_pipeline(scratch_db, landing, triggered_by="test").status == "success"
    with scratch_db.session() as session:
        fresh = gold_status(session)
    assert fresh.state == "fresh"

    # A money column without its _usd suffix fails the critical gold.usd_naming check, so the
    # next rebuild's gold is rolled back and the previous gold stays served.
    with scratch_db.engine.begin() as conn:
        conn.execute(text("ALTER TABLE gold.customer_360 ADD COLUMN revenue numeric(18, 2)"))
    blocked = run_pipeline(scratch_db, landing, triggered_by="test-dq", full=True)
    assert blocked.status == "blocked", blocked.error
    again = run_pipeline(scratch_db, landing, triggered_by="test-dq", full=True)
    assert again.status == "blocked"

    with scratch_db.session() as session:
        status = gold_status(session)
        first = session.get(JobRun, blocked.run_id)
    assert (status.state, status.run_id, status.refreshed_at) == ("held_back", again.run_id, fresh.refreshed_at)
    assert status.since == first.finished_at
    assert [f"{check} (critical)" for check in status.failing_checks] == again.checks_failed
    assert status.cause == status.failing_checks[0] and "gold.usd_naming" in status.cause
    assert status.failing_check_count == len(again.checks_failed) >= 1
    badge = freshness_badge(status)
    assert badge.color == "warning" and badge.children.startswith(f"Gold held back since {first.finished_at:%Y-%m-%d %H:%M}")
    assert status.cause in badge.children
