"""Admin data jobs page: recent runs, "run now" as a background callback (audited, recorded in
app.job_run), and quarantined rows with personal data masked for roles without view_pii."""

from __future__ import annotations

import json
import re
import time

import pytest
from sqlalchemy import select, text

from dashboard import audit
from dashboard.extensions import db
from dashboard.tables.app import AuditEvent, JobRun, Role
from layouts.admin_jobs import ID
from tests.dashboard.security.dash_requests import (
    DASH_ROUTE,
    key_for_output,
    payload,
    post_callback,
    response_outputs,
)

ADMIN = "admin@test.client360.dev"
EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")


def _newest(model, column) -> int:
    with db.session() as session:
        return session.scalar(select(column).order_by(column.desc()).limit(1)) or 0


def test_run_now_in_the_background_runs_the_job_and_audits_it(app, login_as):
    client = login_as("admin")
    before_run, before_audit = _newest(JobRun, JobRun.id), _newest(AuditEvent, AuditEvent.id)
    key = key_for_output(app, f"{ID.RUN_RESULT}.children")
    body = payload(app, key, {f"{ID.RUN}.n_clicks": 1, f"{ID.JOB}.value": "data_quality"})
    started = client.post(DASH_ROUTE, json=body)
    assert started.status_code in (200, 202), started.get_data(as_text=True)[:300]
    job = started.get_json()
    assert "cacheKey" in job, job  # Dash hands the work to the background manager
    deadline, result, progress = time.monotonic() + 120, None, []
    while time.monotonic() < deadline:
        poll = client.post(f"{DASH_ROUTE}?cacheKey={job['cacheKey']}&job={job['job']}", json=body)
        assert poll.status_code in (200, 202, 204), poll.get_data(as_text=True)[:300]
        answer = poll.get_json(silent=True) or {}
        progress.append(answer.get("progress"))
        if "response" in answer:
            result = answer["response"]
            break
        time.sleep(0.5)
    assert result is not None, "the background job did not finish in time"
    assert "data_quality finished" in json.dumps(result)
    with db.session() as session:
        runs = session.scalars(select(JobRun).where(JobRun.id > before_run, JobRun.job_id == "data_quality")).all()
        events = session.scalars(select(AuditEvent).where(AuditEvent.id > before_audit,
                                                          AuditEvent.action == audit.JOB_RUN_MANUAL)).all()
    assert len(runs) == 1 and runs[0].status in ("success", "failed")
    assert [(e.actor, e.target) for e in events] == [(ADMIN, "data_quality")]

    table = json.dumps(response_outputs(post_callback(client, app, f"{ID.RUNS}.children")))
    assert "data_quality" in table and runs[0].status in table


def test_an_unknown_job_is_refused_with_a_message(app):
    from callbacks.admin_jobs import run_job
    from dashboard import current_settings
    from dashboard.tables.app import JobRun as Run

    before = _newest(Run, Run.id)
    with app.app_context():
        alert = run_job("drop_everything", actor=ADMIN, settings=current_settings(), database_url="unused")
    assert "Choose one of the listed jobs" in json.dumps(alert.to_plotly_json(), default=str)
    assert _newest(Run, Run.id) == before


@pytest.mark.parametrize("role", ["executive", "support_lead"])
def test_non_admins_cannot_run_jobs(app, login_as, role):
    client = login_as(role)
    before = _newest(JobRun, JobRun.id)
    response = post_callback(client, app, f"{ID.RUN_RESULT}.children",
                             {f"{ID.RUN}.n_clicks": 1, f"{ID.JOB}.value": "data_quality"})
    assert response.status_code == 403
    assert _newest(JobRun, JobRun.id) == before


@pytest.fixture(scope="module")
def quarantined_emails(app) -> set[str]:
    with db.session() as session:
        raws = session.scalars(text("SELECT raw FROM bronze.quarantine ORDER BY id DESC LIMIT 50")).all()
    return {m for raw in raws for m in EMAIL.findall(raw or "")}


@pytest.fixture(scope="module")
def jobs_operator(app) -> str:
    """A user whose role may manage jobs but not see personal data."""
    from dashboard.users import create_user
    from tests.conftest import TEST_PASSWORD

    email = "jobs-operator@test.client360.dev"
    with db.begin() as session:
        if session.get(Role, "jobs_operator") is None:
            session.add(Role(name="jobs_operator", description="test role", permissions=["manage_jobs"]))
            session.flush()
            create_user(session, email=email, role="jobs_operator", password=TEST_PASSWORD, actor="tests")
    return email


def test_quarantine_shows_reasons_and_masks_pii_without_view_pii(app, login_as, login_email, jobs_operator,
                                                                 quarantined_emails):
    assert quarantined_emails, "the demo data should quarantine some rows with emails"
    admin_view = json.dumps(response_outputs(post_callback(login_as("admin"), app, f"{ID.QUARANTINE}.children")))
    assert "Reason" in admin_view and [e for e in quarantined_emails if e in admin_view]
    masked = post_callback(login_email(jobs_operator), app, f"{ID.QUARANTINE}.children")
    assert masked.status_code == 200
    body = json.dumps(response_outputs(masked))
    assert "Reason" in body and "***@" in body
    assert [e for e in quarantined_emails if e in body] == []
