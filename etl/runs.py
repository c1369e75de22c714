"""Job-run bookkeeping and the advisory lock that keeps a job from running twice at once."""

from __future__ import annotations

import hashlib
import logging
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text, update

from dashboard.db import Database
from dashboard.tables.app import JobRun

log = logging.getLogger(__name__)


class JobAlreadyRunning(RuntimeError):
    """Another process holds this job's lock."""


@dataclass
class RunRecorder:
    """Handed to a running job so it can report rows written per table."""

    run_id: int
    job_id: str
    rows: dict[str, Any] = field(default_factory=dict)
    # Problems that did not stop the job (a rejected file, say); stored in job_run.error.
    warnings: list[str] = field(default_factory=list)

    def add_rows(self, table: str, count: int) -> None:
        self.rows[table] = self.rows.get(table, 0) + int(count)

    def warn(self, message: str) -> None:
        """Record a problem that did not stop the job; a successful run keeps it as its error text."""
        self.warnings.append(message)


def lock_key(job_id: str) -> int:
    """A stable signed 64-bit advisory-lock key for a job id."""
    return int.from_bytes(hashlib.sha256(f"c360:{job_id}".encode()).digest()[:8], "big", signed=True)


@contextmanager
def job_lock(database: Database, job_id: str) -> Iterator[None]:
    """Hold a session-level advisory lock for `job_id` on a dedicated connection."""
    key = lock_key(job_id)
    with database.engine.connect() as conn:
        got = conn.scalar(text("SELECT pg_try_advisory_lock(:k)"), {"k": key})
        conn.commit()
        if not got:
            raise JobAlreadyRunning(f"job {job_id!r} is already running in another process")
        try:
            yield
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
            conn.commit()


def _close_interrupted_runs(database: Database, job_id: str, *, current_run_id: int) -> int:
    """Mark runs left 'running' by a killed process as 'interrupted'.

    Only called while holding the job's lock, so no other run of this job can be live.
    """
    with database.begin() as session:
        closed = session.execute(
            update(JobRun)
            .where(JobRun.job_id == job_id, JobRun.status == "running", JobRun.id != current_run_id)
            .values(status="interrupted", finished_at=datetime.now(UTC),
                    error="The process running this job stopped before it finished.")
        )
        return closed.rowcount or 0


@contextmanager
def recorded_run(database: Database, job_id: str, *, triggered_by: str = "manual") -> Iterator[RunRecorder]:
    """Record a job run: 'running' at the start, then 'success' or 'failed' with rows and error.

    Takes the job's advisory lock first; if another process holds it, the attempt is
    recorded as 'skipped' and JobAlreadyRunning is raised.
    """
    with database.begin() as session:
        run = JobRun(job_id=job_id, triggered_by=triggered_by, status="running", rows={})
        session.add(run)
        session.flush()
        run_id = run.id
    recorder = RunRecorder(run_id=run_id, job_id=job_id)
    status, error = "success", None
    try:
        with job_lock(database, job_id):
            _close_interrupted_runs(database, job_id, current_run_id=run_id)
            yield recorder
    except JobAlreadyRunning as exc:
        status, error = "skipped", str(exc)
        raise
    except BaseException as exc:
        status = "failed"
        error = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        log.error("job %s failed: %s", job_id, error)
        raise
    finally:
        if recorder.warnings and status != "skipped":
            error = "\n".join([error, *recorder.warnings] if error else recorder.warnings)
        with database.begin() as session:
            session.execute(
                update(JobRun).where(JobRun.id == run_id).values(
                    status=status, error=error, rows=recorder.rows,
                    finished_at=datetime.now(UTC),
                )
            )
