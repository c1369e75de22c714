"""Job runs are recorded, and the advisory lock stops a job running twice at once."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from dashboard.job_catalogue import JOB_CATALOGUE, JOB_IDS
from dashboard.job_runner import job_ids
from dashboard.queries.admin import scheduled_jobs
from dashboard.tables.app import JobRun
from etl.runs import JobAlreadyRunning, job_lock, recorded_run
from etl.scheduler import build_scheduler, jobs


def _run(database, run_id: int) -> JobRun:
    with database.session() as session:
        return session.scalar(select(JobRun).where(JobRun.id == run_id))


def test_successful_run_is_recorded(database) -> None:
    with recorded_run(database, "unit-ok", triggered_by="test") as run:
        run.add_rows("gold.example", 3)
        run.add_rows("gold.example", 2)
    stored = _run(database, run.run_id)
    assert stored.status == "success"
    assert stored.rows == {"gold.example": 5}
    assert stored.finished_at is not None and stored.finished_at >= stored.started_at
    assert stored.error is None


def test_failed_run_is_recorded_with_error(database) -> None:
    with pytest.raises(ZeroDivisionError):
        with recorded_run(database, "unit-fail") as run:
            1 / 0  # noqa: B018
    stored = _run(database, run.run_id)
    assert stored.status == "failed"
    assert "ZeroDivisionError" in stored.error


def test_second_concurrent_run_is_skipped(database) -> None:
    from dashboard.db import Database

    other_process = Database().bind(database.url)  # a separate pool, like another process
    try:
        with job_lock(other_process, "unit-locked"):
            with pytest.raises(JobAlreadyRunning):
                with recorded_run(database, "unit-locked"):
                    pytest.fail("the job body must not run while another holds the lock")
        with database.session() as session:
            stored = session.scalar(select(JobRun).where(JobRun.job_id == "unit-locked"))
        assert stored.status == "skipped" and "already running" in stored.error
        # Once released, the job runs again.
        with recorded_run(database, "unit-locked") as again:
            pass
        assert _run(database, again.run_id).status == "success"
    finally:
        other_process.dispose()


def test_scheduler_declares_the_etl_and_data_quality_jobs(settings) -> None:
    scheduler = build_scheduler(settings, blocking=False)
    ids = [job.id for job in scheduler.get_jobs()]
    assert ids[0] == "etl" and {"data_quality", "etl_full_rebuild"} <= set(ids) and len(ids) == len(set(ids))
    assert scheduler.get_job("etl").trigger.interval.total_seconds() == 5 * 60
    assert "hour='2'" in str(scheduler.get_job("etl_full_rebuild").trigger)
    for job_id in ("etl", "etl_full_rebuild", "data_quality"):
        job = scheduler.get_job(job_id)
        assert job.max_instances == 1 and job.coalesce


def test_the_scheduler_runs_exactly_the_catalogued_jobs(settings) -> None:
    """The admin page and the manual runner list the catalogue; the scheduler gives each entry a run."""
    scheduled = jobs(settings)
    assert len(scheduled) == len(JOB_CATALOGUE) > 0
    assert [(job.id, job.description) for job in scheduled] == [(job.id, job.description) for job in JOB_CATALOGUE]
    assert job_ids() == list(JOB_IDS) == [job.id for job in scheduled_jobs()]
    assert len(set(JOB_IDS)) == len(JOB_IDS)


def test_the_web_side_lists_the_jobs_without_loading_them() -> None:
    """The jobs bring the models and the source clients; the jobs page must not load them into web workers."""
    probe = ("import sys, callbacks.admin_jobs, layouts.admin_jobs, dashboard.job_runner; "
             "print(sorted(m for m in sys.modules if m == 'etl' or m.startswith('etl.')))")
    root = Path(__file__).resolve().parents[2]
    loaded = subprocess.run([sys.executable, "-c", probe], cwd=root, capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == "[]", loaded.stdout
